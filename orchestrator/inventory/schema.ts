// The shape of an inventory file as zod schemas: types, ranges, unknown keys and name formats.
// Every schema carries a description saying in plain words what it accepts; it becomes the
// "expected" part of an issue. Cross-references (hosts named by groups, profiles, scenario
// names...) are checked elsewhere, once the shape is known to be right.

import { parseSize } from './sizes.js';
import * as z from 'zod';
import { clipText, hasControl } from './display.js';
import { DURATION_EXPECTED, parseDuration } from './durations.js';
import { remoteDirProblem } from './remote-dir.js';
import type { DocPath } from './positions.js';
import { ROLES, TRANSPORTS } from './types.js';
import type { FailureBudget } from './types.js';

export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const VAR_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const HOST_NAME_EXPECTED =
  "a host name: letters, digits, '.', '_' and '-', starting with a letter or digit";
const VAR_NAME_EXPECTED = "an environment variable name: letters, digits and '_', not starting with a digit";

/** Quotes a value for a message: strings in single quotes, the rest as JSON; long ones cut. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${clipText(value)}'`;
  if (value === undefined) return 'nothing';
  return clipText(JSON.stringify(value) ?? String(value));
}

/** A custom issue with our own message and expected text. */
function fail(ctx: z.RefinementCtx, message: string, expected: string): never {
  ctx.addIssue({ code: 'custom', message, params: { expected } });
  return z.NEVER;
}

const text = (expected: string) => z.string().min(1).describe(expected);

const named = (pattern: RegExp, noun: string, expected: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      if (!pattern.test(value)) fail(ctx, `'${value}' is not a valid ${noun}`, expected);
    })
    .describe(expected);

const duration = z
  .unknown()
  .transform((value, ctx) => parseDuration(value) ?? fail(ctx, `${showValue(value)} is not a duration`, DURATION_EXPECTED))
  .describe(DURATION_EXPECTED);

/** A name to connect with (an address, a user): no spaces and no control characters. */
const word = (expected: string) =>
  text(expected)
    .superRefine((value, ctx) => {
      if (hasControl(value) || /\s/.test(value)) fail(ctx, `${showValue(value)} has spaces or control characters`, expected);
    })
    .describe(expected);

/** A directory on a host for the orchestrator's own files (remote-dir.ts says which are refused). */
const remoteDir = z
  .string()
  .superRefine((value, ctx) => {
    const problem = remoteDirProblem(value);
    if (problem) fail(ctx, `${showValue(value)} ${problem.message}`, problem.expected);
  })
  .describe('a directory path on the host: inside the login directory (relative), or an absolute path that is not a system directory');

/** A size: "8G", "512M", "1.5T" or a number of bytes, greater than zero. */
const SIZE_EXPECTED = 'a size such as 8G, 512M or 1000000 (bytes), greater than zero';
const size = z
  .union([z.number(), z.string()])
  .superRefine((value, ctx) => {
    let bytes: number | undefined;
    try {
      bytes = typeof value === 'number' ? value : parseSize(value);
    } catch {
      bytes = undefined;
    }
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes <= 0) fail(ctx, `${showValue(value)} is not a size`, SIZE_EXPECTED);
  })
  .describe(SIZE_EXPECTED);

const stringOrList = (item: string, expected: string) =>
  z.union([text(item), z.array(text(item))]).describe(expected);

const failureBudget = z
  .unknown()
  .transform((value, ctx): FailureBudget => {
    const expected = 'a whole number of hosts (0 or more), or a percentage of the hosts such as "25%"';
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { maxFailedHosts: value };
    if (typeof value === 'string') {
      const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
      if (percent && Number(percent[1]) <= 100) return { maxFailedPercent: Number(percent[1]) };
      if (/^\s*\d+\s*$/.test(value)) return { maxFailedHosts: Number(value) };
    }
    return fail(ctx, `${showValue(value)} is not a failure budget`, expected);
  })
  .describe('a whole number of hosts (0 or more), or a percentage of the hosts such as "25%"');

/** Parameters of one scenario; checked later against the scenario's own schema. */
const scenarioEntry = z
  .union([z.null(), z.literal(false), z.record(z.string(), z.unknown())])
  .describe('a mapping of parameters, an empty value for the defaults, or false to remove the scenario');

/** HOST KEYS: valid on a host, in a group's vars and in defaults. */
export const hostLayerSchema = z
  .strictObject({
    address: word('a host name or IP address to connect to').optional(),
    port: z.int().min(1).max(65535).describe('an integer from 1 to 65535').optional(),
    user: word('a user name').optional(),
    identity_file: stringOrList('a private key path', 'a private key path, or a list of them').optional(),
    agent: z
      .union([z.boolean(), z.string().min(1)])
      .describe('true (use $SSH_AUTH_SOCK), false, or the path of an ssh-agent socket')
      .optional(),
    jump: stringOrList(
      'a jump host: [user@]host[:port] or an inventory host name',
      'a jump host ([user@]host[:port] or an inventory host name), or a list of them',
    ).optional(),
    roles: z
      .array(z.enum(ROLES).describe(`one of ${ROLES.join(', ')}`))
      .describe(`a list of roles (${ROLES.join(', ')})`)
      .optional(),
    profile: named(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'profile name', 'a profile name (a directory in profiles_dir)').optional(),
    scenarios: z
      .record(z.string().min(1), scenarioEntry)
      .describe('a mapping of scenario names to parameters')
      .nullable()
      .optional(),
    vars: z
      .record(
        named(VAR_NAME_PATTERN, 'environment variable name', VAR_NAME_EXPECTED),
        z.union([z.string(), z.number(), z.boolean()]).describe('a string, number or boolean'),
      )
      .describe('a mapping of environment variable names to values')
      .nullable()
      .optional(),
    timeouts: z
      .strictObject({ connect: duration.optional(), phase: duration.optional(), job: duration.optional(), stall: duration.optional() })
      .describe('a mapping with connect, phase and/or job durations')
      .nullable()
      .optional(),
    retries: z.int().min(0).describe('a whole number, 0 or more').optional(),
    keepalive: duration.optional(),
    remote_dir: remoteDir.optional(),
    connection: z
      .enum(TRANSPORTS)
      .describe("ssh (the default) or local (this machine, as the orchestrator's user)")
      .optional(),
  })
  .describe('a mapping of host settings');

export const HOST_KEYS: readonly string[] = Object.keys(hostLayerSchema.shape);

const groupSchema = z
  .strictObject({
    hosts: z.array(text('a host name defined under hosts:')).describe('a list of host names').nullable().optional(),
    children: z.array(text('a group name defined under groups:')).describe('a list of group names').nullable().optional(),
    vars: hostLayerSchema.nullable().optional(),
  })
  .describe('a mapping with hosts, children and/or vars');

/** A directory on the reports host: absolute or relative to the login directory; ~ is not expanded. */
const remoteDirectory = z
  .string()
  .superRefine((value, ctx) => {
    if (value.trim() === '' || value.includes('\0')) fail(ctx, `${showValue(value)} is not a path`, 'a directory on the reports host');
    else if (value.startsWith('~')) fail(ctx, `${showValue(value)} starts with ~, which is not expanded`, 'an absolute path, or one relative to the login directory on the reports host');
  })
  .describe('a directory on the reports host (absolute, or relative to the login directory)');

const reportsSchema = z
  .strictObject({
    host: text('the name of a host with the role reports'),
    path: remoteDirectory,
    url: z
      .string()
      .superRefine((value, ctx) => {
        if (!URL.canParse(value)) fail(ctx, `${showValue(value)} is not a URL`, 'a URL such as http://reports.lab:8080/');
      })
      .describe('a URL such as http://reports.lab:8080/')
      .optional(),
    incoming: remoteDirectory.optional(),
  })
  .describe('a mapping with host, path and optionally url and incoming');

const retentionSchema = z
  .strictObject({
    keep_raw_days: z.int().min(0).describe('a whole number of days, 0 or more').optional(),
    max_raw_size: z
      .string()
      .superRefine((value, ctx) => {
        try {
          parseSize(value);
        } catch {
          fail(ctx, `${showValue(value)} is not a size`, 'a size such as 50G, 512M or 1000000');
        }
      })
      .describe('a size such as 50G, 512M or 1000000')
      .optional(),
  })
  .describe('a mapping with keep_raw_days and/or max_raw_size');

const MIN_CHANGE_EXPECTED = 'a percentage such as "5%" (0-100%), or a fraction from 0 to 1 such as 0.05';

/** A relative change: "5%" or 0.05, as a fraction. */
const minChange = z
  .unknown()
  .transform((value, ctx): number => {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return value;
    if (typeof value === 'string') {
      const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
      if (percent && Number(percent[1]) <= 100) return Number(percent[1]) / 100;
    }
    return fail(ctx, `${showValue(value)} is not a relative change`, MIN_CHANGE_EXPECTED);
  })
  .describe(MIN_CHANGE_EXPECTED);

const regressionThresholdsSchema = z
  .strictObject({
    min_change: minChange.optional(),
    p_value: z.number().gt(0).max(1).describe('a number greater than 0 and at most 1, such as 0.05').optional(),
    window: z.int().min(6).max(1000).describe('a whole number of points from 6 to 1000').optional(),
    persistence: z.int().min(1).max(30).describe('a whole number of nights from 1 to 30').optional(),
    noise_factor: z.number().min(0).max(100).describe('a number from 0 to 100, such as 2').optional(),
  })
  .describe('a mapping with min_change, p_value, window, persistence and/or noise_factor');

/** regressions.confirm: re-runs of a new regression's jobs before it pages (fleet/confirm-regressions.ts). */
const confirmSchema = z
  .strictObject({
    reruns: z.int().min(0).max(20).describe('a whole number of re-runs from 0 (off) to 20').optional(),
    budget: duration.optional(),
    required: z.boolean().describe('true (only confirmed regressions page) or false (unconfirmed ones page too)').optional(),
  })
  .describe('a mapping with reruns, budget and/or required');

const regressionsSchema = z
  .strictObject({
    default: regressionThresholdsSchema.nullable().optional(),
    metrics: z
      .record(text('a metric name, or a glob where * matches any characters'), regressionThresholdsSchema.nullable())
      .describe('a mapping of metric names or globs (such as "throughput.*") to thresholds')
      .nullable()
      .optional(),
    confirm: confirmSchema.nullable().optional(),
  })
  .describe('a mapping with default, metrics and/or confirm');

/** HTTP header names (RFC 9110 tokens). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** alerts: who is told of a confirmed regression (orchestrator/alerts/). */
const alertsSchema = z
  .strictObject({
    command: z
      .array(text('a program, then its arguments'))
      .min(1)
      .describe('a list: the program (a name on PATH, or a path) and its arguments; the regressions arrive as JSON on its stdin')
      .optional(),
    webhook: z
      .strictObject({
        url: z
          .string()
          .superRefine((value, ctx) => {
            const url = URL.canParse(value) ? new URL(value) : undefined;
            if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail(ctx, `${showValue(value)} is not an http(s) URL`, 'an http:// or https:// URL');
          })
          .describe('an http:// or https:// URL'),
        headers: z
          .record(
            named(HEADER_NAME, 'HTTP header name', 'an HTTP header name such as Authorization'),
            z.string().describe('a header value; ${NAME} is replaced by the environment variable NAME when the alert is sent'),
          )
          .describe('a mapping of HTTP header names to values')
          .nullable()
          .optional(),
      })
      .describe('a mapping with url and optionally headers')
      .optional(),
    timeout: duration.optional(),
  })
  .describe('a mapping with command, webhook and/or timeout');

export const inventoryFileSchema = z
  .strictObject({
    results_dir: text('a directory path').optional(),
    known_hosts: text('a file path').optional(),
    ssh_config: text('a file path, or "none"').optional(),
    profiles_dir: text('a directory path').optional(),
    concurrency: z.int().min(1).describe('a whole number, 1 or more').optional(),
    max_artifact_size: size.optional(),
    failure_budget: failureBudget.optional(),
    reports: reportsSchema.optional(),
    regressions: regressionsSchema.nullable().optional(),
    alerts: alertsSchema.nullable().optional(),
    retention: retentionSchema.nullable().optional(),
    defaults: hostLayerSchema.nullable().optional(),
    groups: z.record(z.string().min(1), groupSchema.nullable()).describe('a mapping of group names to groups').nullable().optional(),
    hosts: z
      .record(named(HOST_NAME_PATTERN, 'host name', HOST_NAME_EXPECTED), hostLayerSchema.nullable())
      .describe('a mapping of host names to host settings')
      .nullable()
      .optional(),
  })
  .describe('a mapping of inventory settings');

export type HostLayer = z.output<typeof hostLayerSchema>;
export type GroupEntry = z.output<typeof groupSchema>;
export type InventoryFile = z.output<typeof inventoryFileSchema>;
export type RegressionThresholdsEntry = z.output<typeof regressionThresholdsSchema>;

/** A word of advice for some unknown keys: host settings put one level too high or too low. */
export function unknownKeyHint(path: DocPath, key: string): string | undefined {
  if (!HOST_KEYS.includes(key)) return undefined;
  if (path.length === 0) return "host settings go under defaults:, a group's vars: or a host";
  if (path.length === 2 && path[0] === 'groups') return "host settings of a group go under its vars:";
  return undefined;
}

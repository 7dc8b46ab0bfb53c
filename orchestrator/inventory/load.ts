// loadInventory: reads an inventory file, checks all of it, and returns the fully layered,
// resolved inventory, or throws one InventoryError carrying every issue found, each with the
// line and column it is about. Nothing here connects anywhere.
//
// Loading is linear in the size of the inventory (20,000 hosts take about a second),
// bounded (limits.ts: the file's size, its YAML nodes, what aliases expand to) and hands the
// event loop a turn every few milliseconds (pacing.ts), so a signal or options.signal stops
// it at once, even in the middle of a huge file.

import { parseSize } from './sizes.js';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { LoadCache, resolveConnections } from './connection.js';
import { DEFAULTS } from './defaults.js';
import { InventoryError } from './errors.js';
import type { InventoryIssue } from './errors.js';
import { buildGroupGraph, groupsOfHost } from './groups.js';
import { hostSpec } from './host-spec.js';
import { layersOfHost, mergeLayers } from './layering.js';
import type { Layer, MergedHost } from './layering.js';
import { INVENTORY_LIMITS } from './limits.js';
import type { InventoryLimits } from './limits.js';
import { Pacer } from './pacing.js';
import { parseYamlFile, readErrorReason, unreadableFileIssue } from './parse-yaml.js';
import type { YamlSource } from './parse-yaml.js';
import { resolvePath } from './paths.js';
import { issueAt, positionOf } from './positions.js';
import { ProfileSet } from './profiles.js';
import {
  checkGroupReferences,
  checkHostsSection,
  checkLayerReferences,
  checkReportsHost,
  definedNames,
} from './references.js';
import type { RawDocument } from './references.js';
import { parseSalvaging } from './salvage.js';
import { inventoryFileSchema, unknownKeyHint } from './schema.js';
import type { InventoryFile, RegressionThresholdsEntry } from './schema.js';
import { scenarioRequests } from './scenarios.js';
import { SshClientConfig } from './ssh-config.js';
import type { AlertsConfig, GroupSpec, HostCheck, HostSpec, Inventory, RegressionConfig, RegressionThresholdSettings } from './types.js';
import { suggestionBudget } from './suggest.js';
import { describeValue, explainZodIssues } from './zod-issues.js';

export interface LoadOptions {
  /** scenario name -> zod schema for that scenario's params (validated with positions). */
  scenarios: ReadonlyMap<string, z.ZodType>;
  /** scenario name -> its check of each host that requests it (vars, profile files), if it has one. */
  hostChecks?: ReadonlyMap<string, HostCheck>;
  /** For ~ / HOME / USER / SSH_AUTH_SOCK; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Aborting it stops the load within a few milliseconds (at the next turn it hands the event
   * loop); the promise then rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** Other limits than INVENTORY_LIMITS' (tests use small ones). */
  limits?: Partial<InventoryLimits>;
}

export async function loadInventory(file: string, options: LoadOptions): Promise<Inventory> {
  const env = options.env ?? process.env;
  const pacer = new Pacer(options.signal);
  await pacer.pause();
  const parsed = await parseYamlFile(file, { pacer, ...(options.limits ? { limits: options.limits } : {}) });
  if (!parsed.source || !parsed.usable) throw new InventoryError(parsed.issues);
  const source = parsed.source;
  const issues: InventoryIssue[] = [];
  append(issues, parsed.issues);

  const root = source.doc.contents;
  const raw = root === null ? null : toPlainData(source, issues);
  if (raw === undefined) throw new InventoryError(issues);
  await pacer.pause();
  if (raw === null) {
    issues.push({
      file: source.file,
      line: 1,
      column: 1,
      message: 'the inventory is empty',
      expected: 'a mapping with at least a hosts: section',
    });
    throw new InventoryError(issues);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push(issueAt(source, [], 'value', `the inventory is ${describeValue(raw)}, not a mapping`, 'a mapping with at least a hosts: section'));
    throw new InventoryError(issues);
  }
  // Top-level keys starting with "x-" are free for YAML anchors to live in, and ignored.
  const document = Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith('x-'))) as RawDocument;

  const salvaged = await parseSalvaging(inventoryFileSchema, document, pacer);
  append(
    issues,
    explainZodIssues(salvaged.issues, {
      source,
      schema: inventoryFileSchema,
      input: document,
      docPath: (path) => path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
      hint: unknownKeyHint,
    }),
  );
  const data: InventoryFile = salvaged.data ?? {};
  await pacer.pause();
  const inventory = await buildInventory(source, document, data, options, env, issues, pacer);
  if (issues.length > 0) throw new InventoryError(issues);
  return inventory;
}

/**
 * The document as plain data. What aliases and merge keys expand to was measured and bounded
 * by the parse, at the alias that would pass the limit; yaml's own alias count (uses of an
 * anchor times the aliases inside it) stays as a backstop at the same limit, since at its
 * default of 100 it refuses a plain inventory whose hosts each merge one anchor.
 */
function toPlainData(source: YamlSource, issues: InventoryIssue[]): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: INVENTORY_LIMITS.maxExpandedNodes });
  } catch (error) {
    issues.push({ file: source.file, line: 1, column: 1, message: `YAML: ${(error as Error).message}` });
    return undefined;
  }
}

async function buildInventory(
  source: YamlSource,
  document: RawDocument,
  data: InventoryFile,
  options: LoadOptions,
  env: NodeJS.ProcessEnv,
  issues: InventoryIssue[],
  pacer: Pacer,
): Promise<Inventory> {
  const file = resolve(source.file);
  const baseDir = dirname(file);
  const hostNames = definedNames(document, 'hosts');
  const cache = new LoadCache(env);
  const budget = suggestionBudget();

  issues.push(...checkHostsSection(source, document));

  const profiles = ProfileSet.read(resolvePath(baseDir, data.profiles_dir ?? DEFAULTS.profilesDir, env));
  if (data.profiles_dir !== undefined && !profiles.exists) {
    issues.push(
      issueAt(source, ['profiles_dir'], 'value', `profiles_dir '${data.profiles_dir}' is not a readable directory (${profiles.dir})`, 'a directory of profiles'),
    );
  }

  const sshConfig = await loadSshConfig(source, data, baseDir, env, issues);

  const graph = buildGroupGraph(data.groups ?? {});
  append(issues, await checkGroupReferences(source, document, graph, pacer, budget, hostNames));

  // Each layer is checked once where it is written, whichever hosts it applies to.
  const layers: Layer[] = [];
  if (data.defaults) layers.push({ path: ['defaults'], values: data.defaults });
  for (const [group, entry] of Object.entries(data.groups ?? {})) {
    if (entry?.vars) layers.push({ path: ['groups', group, 'vars'], values: entry.vars });
  }
  for (const [host, values] of Object.entries(data.hosts ?? {})) {
    if (values) layers.push({ path: ['hosts', host], values });
  }
  const layerContext = {
    source,
    scenarios: options.scenarios,
    profiles,
    hostNames,
    isSshConfigHost: (name: string) => sshConfig?.hasHostAlias(name) ?? false,
    isFile: (path: string) => cache.isFile(path),
    budget,
    baseDir,
    env,
  };
  for (const layer of layers) {
    issues.push(...checkLayerReferences(layer, layerContext));
    if (pacer.due()) await pacer.pause();
  }

  const merged: MergedHost[] = [];
  for (const host of Object.keys(data.hosts ?? {})) {
    const groups = groupsOfHost(graph, host);
    merged.push(mergeLayers(host, groups, layersOfHost(data, graph, host, groups)));
    if (pacer.due()) await pacer.pause();
  }
  const connections = resolveConnections(merged, { source, baseDir, env, sshConfig, cache });
  append(issues, connections.issues);
  await pacer.pause();

  const hosts: HostSpec[] = [];
  for (const host of merged) {
    if (pacer.due()) await pacer.pause();
    const scenarios = scenarioRequests(host, options.scenarios, source);
    issues.push(...scenarios.issues);
    const endpoint = connections.endpoints.get(host.name);
    if (!endpoint) continue;
    const spec = hostSpec(host, endpoint, scenarios.requests, source, profiles);
    hosts.push(spec);
    for (const request of spec.scenarios) {
      const check = options.hostChecks?.get(request.name);
      if (!check) continue;
      for (const found of check(spec, request.params, profiles.dir)) {
        const { file, line, column } = found.position;
        issues.push({ file, line, column, message: found.message, ...(found.expected === undefined ? {} : { expected: found.expected }) });
      }
    }
  }

  // Read from the document itself, so that a bad reports.path does not hide a bad host.
  const reportsHost = (document.reports as { host?: unknown } | null | undefined)?.host;
  if (typeof reportsHost === 'string' && reportsHost !== '') {
    const byName = new Map(merged.map((host) => [host.name, host]));
    const rolesOf = (name: string) => {
      const host = byName.get(name);
      return host ? (host.settings.roles?.value ?? []) : undefined;
    };
    issues.push(...checkReportsHost(source, reportsHost, hostNames, rolesOf, budget));
  }

  const groups: GroupSpec[] = Object.entries(data.groups ?? {}).map(([name, entry]) => ({
    name,
    hosts: [...new Set(entry?.hosts ?? [])],
    children: [...new Set(entry?.children ?? [])],
    position: positionOf(source, ['groups', name], 'key'),
  }));

  const inventory: Inventory = {
    file,
    hosts,
    groups,
    resultsDir: resolvePath(baseDir, data.results_dir ?? DEFAULTS.resultsDir, env),
    knownHostsFile: resolvePath(baseDir, data.known_hosts ?? DEFAULTS.knownHosts, env),
    profilesDir: profiles.dir,
    concurrency: data.concurrency ?? DEFAULTS.concurrency,
  };
  if (data.max_artifact_size !== undefined) inventory.maxArtifactBytes = sizeInBytes(data.max_artifact_size);
  if (data.failure_budget) inventory.failureBudget = data.failure_budget;
  if (data.reports) {
    const { host, path, url, incoming } = data.reports;
    inventory.reports = { host, path, ...(url === undefined ? {} : { url }), ...(incoming === undefined ? {} : { incoming }) };
  }
  if (data.retention) {
    const { keep_raw_days: keepRawDays, max_raw_size: maxRawSize } = data.retention;
    inventory.retention = {
      ...(keepRawDays === undefined ? {} : { keepRawDays }),
      ...(maxRawSize === undefined ? {} : { maxRawBytes: parseSize(maxRawSize) }),
    };
  }
  if (data.regressions) inventory.regressions = regressionConfig(source, data.regressions);
  if (data.alerts) inventory.alerts = alertsConfig(data.alerts, baseDir, env);
  return inventory;
}

/** target.push(...items) without passing every item as an argument (there may be 100,000). */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

function sizeInBytes(size: string | number): number {
  return typeof size === 'number' ? size : parseSize(size);
}

function thresholdSettings(entry: RegressionThresholdsEntry | null | undefined): RegressionThresholdSettings {
  const settings: RegressionThresholdSettings = {};
  if (entry?.min_change !== undefined) settings.minRelativeChange = entry.min_change;
  if (entry?.p_value !== undefined) settings.pValue = entry.p_value;
  if (entry?.window !== undefined) settings.window = entry.window;
  if (entry?.persistence !== undefined) settings.persistence = entry.persistence;
  if (entry?.noise_factor !== undefined) settings.noiseFactor = entry.noise_factor;
  return settings;
}

function regressionConfig(source: YamlSource, section: NonNullable<InventoryFile['regressions']>): RegressionConfig {
  const config: RegressionConfig = {
    default: thresholdSettings(section.default),
    metrics: Object.entries(section.metrics ?? {}).map(([pattern, entry]) => ({
      pattern,
      thresholds: thresholdSettings(entry),
      position: positionOf(source, ['regressions', 'metrics', pattern], 'key'),
    })),
  };
  // An empty confirm: is the defaults (reruns: 0 turns confirmation off).
  const confirm = section.confirm;
  if (confirm) {
    config.confirm = {
      ...(confirm.reruns === undefined ? {} : { reruns: confirm.reruns }),
      ...(confirm.budget === undefined ? {} : { budgetMs: confirm.budget }),
      ...(confirm.required === undefined ? {} : { required: confirm.required }),
    };
  }
  return config;
}

/** alerts: a command's program written as a path (it has a '/', or starts with ~) is relative to the inventory. */
function alertsConfig(section: NonNullable<InventoryFile['alerts']>, baseDir: string, env: NodeJS.ProcessEnv): AlertsConfig {
  const config: AlertsConfig = {};
  if (section.command) {
    const [program, ...args] = section.command;
    const path = program!.includes('/') || program!.startsWith('~') ? resolvePath(baseDir, program!, env) : program!;
    config.command = [path, ...args];
  }
  if (section.webhook) config.webhook = { url: section.webhook.url, headers: { ...(section.webhook.headers ?? {}) } };
  if (section.timeout !== undefined) config.timeoutMs = section.timeout;
  return config;
}

/** The OpenSSH client config to consult, if any: ssh_config, else ~/.ssh/config when it exists. */
async function loadSshConfig(
  source: YamlSource,
  data: InventoryFile,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  issues: InventoryIssue[],
): Promise<SshClientConfig | undefined> {
  const setting = data.ssh_config;
  if (setting === 'none') return undefined;
  const path = resolvePath(baseDir, setting ?? DEFAULTS.sshConfig, env);
  try {
    return await SshClientConfig.load(path, env);
  } catch (error) {
    if (setting === undefined) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        issues.push(unreadableFileIssue(path, error, 'a readable OpenSSH client config, or ssh_config: none in the inventory'));
      }
    } else {
      issues.push(
        issueAt(
          source,
          ['ssh_config'],
          'value',
          `cannot read ssh_config '${setting}': ${readErrorReason(error)} (${path})`,
          'an OpenSSH client config file, or "none"',
        ),
      );
    }
    return undefined;
  }
}

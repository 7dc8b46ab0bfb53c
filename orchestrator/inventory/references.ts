// Cross-reference checks: names that must be defined elsewhere in the inventory (group
// members, child groups, the reports host, jump hosts), and settings that must match
// something outside it (profile directories, registered scenarios, key files, the agent).

import { statSync } from 'node:fs';
import type { z } from 'zod';
import type { InventoryIssue } from './errors.js';
import { findCycles } from './groups.js';
import type { GroupGraph } from './groups.js';
import { JUMP_EXPECTED, classifyJump } from './jump.js';
import type { Layer } from './layering.js';
import { issueAt } from './positions.js';
import type { DocPath } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import { resolvePath } from './paths.js';
import type { Pacer } from './pacing.js';
import type { ProfileSet } from './profiles.js';
import { didYouMean } from './suggest.js';
import type { SuggestionBudget } from './suggest.js';

/** The root of the document as plain data, before any validation. */
export type RawDocument = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names of the entries of a mapping in the raw document (empty when it is not a mapping). */
export function definedNames(raw: RawDocument, section: 'hosts' | 'groups'): Set<string> {
  const entries = raw[section];
  return new Set(isRecord(entries) ? Object.keys(entries) : []);
}

/** The inventory must define at least one host. */
export function checkHostsSection(source: YamlSource, raw: RawDocument): InventoryIssue[] {
  const hosts = raw.hosts;
  const expected = 'a hosts: mapping with at least one host';
  if (!('hosts' in raw)) return [issueAt(source, [], 'value', 'the inventory has no hosts: section', expected)];
  if (hosts === null || (isRecord(hosts) && Object.keys(hosts).length === 0)) {
    return [issueAt(source, ['hosts'], 'key', 'hosts: no host is defined', expected)];
  }
  return [];
}

/** Group members and children that are not defined, listed twice, or nested in a cycle. */
export async function checkGroupReferences(
  source: YamlSource,
  raw: RawDocument,
  graph: GroupGraph,
  pacer?: Pacer,
  budget?: SuggestionBudget,
  hostNames: ReadonlySet<string> = definedNames(raw, 'hosts'),
): Promise<InventoryIssue[]> {
  const issues: InventoryIssue[] = [];
  const groupNames = definedNames(raw, 'groups');
  const groups = isRecord(raw.groups) ? raw.groups : {};
  for (const [group, entry] of Object.entries(groups)) {
    if (!isRecord(entry)) continue;
    const lists = [
      { key: 'hosts', noun: 'host', names: hostNames, section: 'hosts:' },
      { key: 'children', noun: 'group', names: groupNames, section: 'groups:' },
    ] as const;
    for (const { key, noun, names, section } of lists) {
      const list = entry[key];
      if (!Array.isArray(list)) continue;
      const firstIndex = new Map<string, number>();
      for (const [index, item] of (list as unknown[]).entries()) {
        if (pacer?.due()) await pacer.pause();
        if (typeof item !== 'string') continue;
        const path: DocPath = ['groups', group, key, index];
        if (!names.has(item)) {
          issues.push(
            issueAt(
              source,
              path,
              'value',
              `group '${group}' lists ${noun} '${item}', which is not defined under ${section}${didYouMean(item, names, budget)}`,
              `a ${noun} name defined under ${section}`,
            ),
          );
        }
        const first = firstIndex.get(item);
        if (first === undefined) {
          firstIndex.set(item, index);
        } else {
          const firstAt = issueAt(source, ['groups', group, key, first], 'value', '');
          issues.push(
            issueAt(
              source,
              path,
              'value',
              `${noun} '${item}' is listed twice in group '${group}' (first at line ${firstAt.line}, column ${firstAt.column})`,
              `each ${noun} once in a group's ${key}`,
            ),
          );
        }
      }
    }
  }
  for (const cycle of findCycles(graph)) {
    const selfLoop = cycle.groups.length === 2;
    issues.push(
      issueAt(
        source,
        ['groups', cycle.from, 'children', cycle.index],
        'value',
        selfLoop
          ? `group '${cycle.from}' lists itself as a child`
          : `groups nest in a cycle: ${cycle.groups.join(' -> ')}`,
        'children that do not lead back to the group',
      ),
    );
  }
  return issues;
}

export interface LayerCheckContext {
  source: YamlSource;
  scenarios: ReadonlyMap<string, z.ZodType>;
  profiles: ProfileSet;
  hostNames: ReadonlySet<string>;
  isSshConfigHost(name: string): boolean;
  /** Shared by the "did you mean" suggestions of one load. */
  budget?: SuggestionBudget;
  /** Whether a path is a regular file (default: stat it). */
  isFile?(path: string): boolean;
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

/** Checks of one layer of host settings (defaults, a group's vars or a host) on its own. */
export function checkLayerReferences(layer: Layer, context: LayerCheckContext): InventoryIssue[] {
  const { source } = context;
  const { values, path } = layer;
  const issues: InventoryIssue[] = [];

  if (values.profile !== undefined) {
    const problem = context.profiles.problemWith(values.profile);
    if (problem) issues.push(issueAt(source, [...path, 'profile'], 'value', problem.message, problem.expected));
  }

  for (const name of Object.keys(values.scenarios ?? {})) {
    if (context.scenarios.has(name)) continue;
    const known = [...context.scenarios.keys()];
    issues.push(
      issueAt(
        source,
        [...path, 'scenarios', name],
        'key',
        `unknown scenario '${name}'${didYouMean(name, known)}`,
        known.length === 0 ? 'no scenarios are available' : `one of ${known.join(', ')}`,
      ),
    );
  }

  const eachItem = (key: 'jump' | 'identity_file', value: string | string[] | undefined) =>
    value === undefined
      ? []
      : typeof value === 'string'
        ? [{ text: value, path: [...path, key] }]
        : value.map((text, index) => ({ text, path: [...path, key, index] }));

  for (const { text, path: itemPath } of eachItem('jump', values.jump)) {
    const target = classifyJump(text, (name) => context.hostNames.has(name), context.isSshConfigHost);
    if (target.kind === 'unparseable') {
      issues.push(issueAt(source, itemPath, 'value', `jump host '${text}' is not in the form [user@]host[:port]`, JUMP_EXPECTED));
    } else if (target.kind === 'unknown') {
      issues.push(
        issueAt(
          source,
          itemPath,
          'value',
          `jump host '${target.host}' is not a host of this inventory, an IP address or a DNS name${didYouMean(target.host, context.hostNames, context.budget)}`,
          JUMP_EXPECTED,
        ),
      );
    }
  }

  for (const { text, path: itemPath } of eachItem('identity_file', values.identity_file)) {
    const file = resolvePath(context.baseDir, text, context.env);
    if (!(context.isFile ?? isFile)(file)) {
      issues.push(
        issueAt(source, itemPath, 'value', `identity file '${text}' does not exist (${file})`, 'the path of a private key file'),
      );
    }
  }

  if (values.agent === true && !context.env.SSH_AUTH_SOCK) {
    issues.push(
      issueAt(
        source,
        [...path, 'agent'],
        'value',
        'agent is true but SSH_AUTH_SOCK is not set',
        'SSH_AUTH_SOCK set in the environment, or the path of an ssh-agent socket',
      ),
    );
  }
  return issues;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** reports.host must be an inventory host with the role reports. */
export function checkReportsHost(
  source: YamlSource,
  host: string,
  hostNames: ReadonlySet<string>,
  rolesOf: (host: string) => readonly string[] | undefined,
  budget?: SuggestionBudget,
): InventoryIssue[] {
  const path = ['reports', 'host'];
  if (!hostNames.has(host)) {
    return [
      issueAt(
        source,
        path,
        'value',
        `reports host '${host}' is not defined under hosts:${didYouMean(host, hostNames, budget)}`,
        'the name of a host with the role reports',
      ),
    ];
  }
  const roles = rolesOf(host);
  if (roles && !roles.includes('reports')) {
    return [
      issueAt(
        source,
        path,
        'value',
        `reports host '${host}' does not have the role reports (its roles: ${roles.length === 0 ? 'none' : roles.join(', ')})`,
        'the name of a host with the role reports',
      ),
    ];
  }
  return [];
}

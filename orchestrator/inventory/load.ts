// loadInventory: reads an inventory file, checks all of it, and returns the fully layered,
// resolved inventory, or throws one InventoryError carrying every issue found, each with the
// line and column it is about. Nothing here connects anywhere.

import { parseSize } from './sizes.js';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { resolveConnections } from './connection.js';
import { DEFAULTS } from './defaults.js';
import { InventoryError } from './errors.js';
import type { InventoryIssue } from './errors.js';
import { buildGroupGraph, groupsOfHost } from './groups.js';
import { hostSpec } from './host-spec.js';
import { layersOfHost, mergeLayers } from './layering.js';
import type { Layer, MergedHost } from './layering.js';
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
import type { GroupSpec, HostCheck, HostSpec, Inventory, RegressionConfig, RegressionThresholdSettings } from './types.js';
import { describeValue, explainZodIssues } from './zod-issues.js';

export interface LoadOptions {
  /** scenario name -> zod schema for that scenario's params (validated with positions). */
  scenarios: ReadonlyMap<string, z.ZodType>;
  /** scenario name -> its check of each host that requests it (vars, profile files), if it has one. */
  hostChecks?: ReadonlyMap<string, HostCheck>;
  /** For ~ / HOME / USER / SSH_AUTH_SOCK; default process.env. */
  env?: NodeJS.ProcessEnv;
}


export async function loadInventory(file: string, options: LoadOptions): Promise<Inventory> {
  const env = options.env ?? process.env;
  const parsed = await parseYamlFile(file);
  if (!parsed.source || !parsed.usable) throw new InventoryError(parsed.issues);
  const source = parsed.source;
  const issues: InventoryIssue[] = [...parsed.issues];

  const root = source.doc.contents;
  const raw = root === null ? null : toPlainData(source, issues);
  if (raw === null || raw === undefined) {
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

  const salvaged = parseSalvaging(inventoryFileSchema, document);
  issues.push(
    ...explainZodIssues(salvaged.issues, {
      source,
      schema: inventoryFileSchema,
      input: document,
      docPath: (path) => path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
      hint: unknownKeyHint,
    }),
  );
  const data: InventoryFile = salvaged.data ?? {};
  const inventory = await buildInventory(source, document, data, options, env, issues);
  if (issues.length > 0) throw new InventoryError(issues);
  return inventory;
}

function toPlainData(source: YamlSource, issues: InventoryIssue[]): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: 1000 });
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
): Promise<Inventory> {
  const file = resolve(source.file);
  const baseDir = dirname(file);
  const hostNames = definedNames(document, 'hosts');

  issues.push(...checkHostsSection(source, document));

  const profiles = ProfileSet.read(resolvePath(baseDir, data.profiles_dir ?? DEFAULTS.profilesDir, env));
  if (data.profiles_dir !== undefined && !profiles.exists) {
    issues.push(
      issueAt(source, ['profiles_dir'], 'value', `profiles_dir '${data.profiles_dir}' is not a readable directory (${profiles.dir})`, 'a directory of profiles'),
    );
  }

  const sshConfig = await loadSshConfig(source, data, baseDir, env, issues);

  const graph = buildGroupGraph(data.groups ?? {});
  issues.push(...checkGroupReferences(source, document, graph));

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
    baseDir,
    env,
  };
  for (const layer of layers) issues.push(...checkLayerReferences(layer, layerContext));

  const merged: MergedHost[] = Object.keys(data.hosts ?? {}).map((host) =>
    mergeLayers(host, groupsOfHost(graph, host), layersOfHost(data, graph, host)),
  );
  const connections = resolveConnections(merged, { source, baseDir, env, sshConfig });
  issues.push(...connections.issues);

  const hosts: HostSpec[] = [];
  for (const host of merged) {
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
    issues.push(...checkReportsHost(source, reportsHost, hostNames, rolesOf));
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
  return inventory;
}

function thresholdSettings(entry: RegressionThresholdsEntry | null | undefined): RegressionThresholdSettings {
  const settings: RegressionThresholdSettings = {};
  if (entry?.min_change !== undefined) settings.minRelativeChange = entry.min_change;
  if (entry?.p_value !== undefined) settings.pValue = entry.p_value;
  if (entry?.window !== undefined) settings.window = entry.window;
  return settings;
}

function regressionConfig(source: YamlSource, section: NonNullable<InventoryFile['regressions']>): RegressionConfig {
  return {
    default: thresholdSettings(section.default),
    metrics: Object.entries(section.metrics ?? {}).map(([pattern, entry]) => ({
      pattern,
      thresholds: thresholdSettings(entry),
      position: positionOf(source, ['regressions', 'metrics', pattern], 'key'),
    })),
  };
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

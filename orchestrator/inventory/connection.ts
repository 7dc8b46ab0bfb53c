// Connection settings of every host: the layered inventory settings first, then what the
// OpenSSH client config says for `address ?? host name` fills only what no layer set, then
// built-in defaults. Jump chains are resolved last, since a hop that names an inventory host
// uses that host's own resolved settings (and its own jump chain before it); each host's chain
// is resolved once, and none may be longer than INVENTORY_LIMITS.maxJumpHops. What every host
// would look up again (the local user, whether a key file exists) is looked up once per load.
//
// A host with `connection: local` is this machine: its commands run as the orchestrator's user,
// with no address, port, keys or jump hosts (and no ssh config lookup). Those keys written on the
// host itself or beside its `connection: local` are errors; inherited from an outer layer (the
// defaults, a group every host shares) they do not apply to it. A local host is no jump host.

import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { InventoryIssue } from './errors.js';
import { classifyJump } from './jump.js';
import type { MergedHost } from './layering.js';
import { homeDirectory, resolvePath } from './paths.js';
import { INVENTORY_LIMITS } from './limits.js';
import { issueAt } from './positions.js';
import type { DocPath } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import { expandSshTokens } from './ssh-config.js';
import type { SshClientConfig, SshHostConfig } from './ssh-config.js';
import type { ConnectionSettings, JumpHop, Transport } from './types.js';

export const DEFAULT_PORT = 22;

export interface ConnectionContext {
  source: YamlSource;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** Absent when ssh_config is "none" or ~/.ssh/config does not exist. */
  sshConfig?: SshClientConfig;
  /** Looked up once per load: the local user, which key files exist. */
  cache?: LoadCache;
}

/** Answers every host would ask again, asked once per load. */
export class LoadCache {
  private user: string | undefined;
  private readonly files = new Map<string, boolean>();
  private readonly paths = new Map<string, string>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  localUser(): string {
    this.user ??= localUser(this.env);
    return this.user;
  }

  /** resolvePath(baseDir, path, env), once per path. */
  resolvePath(baseDir: string, path: string): string {
    const key = `${baseDir}\0${path}`;
    let resolved = this.paths.get(key);
    if (resolved === undefined) this.paths.set(key, (resolved = resolvePath(baseDir, path, this.env)));
    return resolved;
  }

  /** True when the path is a regular file (stat'ed once). */
  isFile(path: string): boolean {
    let known = this.files.get(path);
    if (known === undefined) {
      try {
        known = statSync(path).isFile();
      } catch {
        known = false;
      }
      this.files.set(path, known);
    }
    return known;
  }
}

/** Where a host gets to, without its jump chain. */
interface Endpoint {
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  agent?: string;
}

interface JumpItem {
  text: string;
  /** Where it was written; for a ProxyJump from the ssh config, the host's key. */
  path: DocPath;
  fromSshConfig: boolean;
}

interface HostEndpoint extends Endpoint {
  transport: Transport;
  jump: JumpItem[];
}

/** Keys that say how to reach a host over SSH: meaningless on a `connection: local` host. */
const SSH_ONLY_KEYS = ['address', 'port', 'user', 'identity_file', 'agent', 'jump'] as const;

/** What a local host's endpoint says: this machine, as the orchestrator's user; port 0 (none). */
const LOCAL_ADDRESS = 'localhost';

function localUser(env: NodeJS.ProcessEnv): string {
  if (env.USER) return env.USER;
  try {
    return userInfo().username || 'root';
  } catch {
    return 'root';
  }
}

export interface ResolvedConnections {
  /** Hosts whose jump chain could not be resolved are missing. */
  endpoints: Map<string, Omit<ConnectionSettings, 'connectTimeoutMs' | 'keepaliveIntervalMs' | 'retries'>>;
  issues: InventoryIssue[];
}

export function resolveConnections(hosts: readonly MergedHost[], given: ConnectionContext): ResolvedConnections {
  const context: ConnectionContext & { cache: LoadCache } = { ...given, cache: given.cache ?? new LoadCache(given.env) };
  const issues: InventoryIssue[] = [];
  const endpoints = new Map<string, HostEndpoint>();
  const reported = new Set<string>();
  for (const host of hosts) {
    if (host.settings.connection?.value === 'local') {
      checkLocalHost(host, context.source, issues, reported);
      endpoints.set(host.name, localEndpoint(context.cache));
    } else {
      endpoints.set(host.name, hostEndpoint(host, context, issues));
    }
  }
  const maxHops = INVENTORY_LIMITS.maxJumpHops;

  const chains = new Map<string, JumpHop[] | undefined>();
  const isInventoryHost = (name: string) => endpoints.has(name);
  const isSshConfigHost = (name: string) => context.sshConfig?.hasHostAlias(name) ?? false;

  /**
   * The hops before `name`, outermost first; undefined when they loop, go deeper than
   * maxHops or cannot be resolved. `visiting` is the chain of hosts that led here.
   */
  const chainOf = (name: string, visiting: readonly string[]): JumpHop[] | undefined => {
    if (chains.has(name)) return chains.get(name);
    const endpoint = endpoints.get(name)!;
    const hops: JumpHop[] = [];
    let ok = true;
    /** Failed for a reason that depends on the way here (a loop, the depth): not final. */
    let pathDependent = false;
    for (const item of endpoint.jump) {
      const target = classifyJump(item.text, isInventoryHost, isSshConfigHost);
      if (target.kind === 'inventory' && endpoints.get(target.host)!.transport === 'local') {
        issues.push(
          issueAt(
            context.source,
            item.path,
            item.fromSshConfig ? 'key' : 'value',
            `jump host '${target.host}' of '${name}' has connection: local; a local host cannot be a jump host`,
            'an inventory host reached over SSH, or [user@]host[:port]',
          ),
        );
        ok = false;
        continue;
      }
      if (target.kind === 'inventory') {
        const loopStart = [...visiting, name].indexOf(target.host);
        if (loopStart >= 0) {
          const loop = [...visiting, name].slice(loopStart).concat(target.host);
          issues.push(loopIssue(context.source, item, loop));
          ok = false;
          pathDependent = true;
          continue;
        }
        if (visiting.length + 1 >= maxHops) {
          issues.push(
            issueAt(
              context.source,
              item.path,
              item.fromSshConfig ? 'key' : 'value',
              `jump host '${target.host}' of '${name}' makes a jump chain of more than ${maxHops} hosts (from '${visiting[0] ?? name}')`,
              `jump chains of at most ${maxHops} hosts`,
            ),
          );
          ok = false;
          pathDependent = true;
          continue;
        }
        const before = chainOf(target.host, [...visiting, name]);
        if (!before) {
          ok = false;
          if (!chains.has(target.host)) pathDependent = true;
          continue;
        }
        const through = endpoints.get(target.host)!;
        hops.push(...before, {
          label: target.host,
          ...withAgent({
            address: through.address,
            port: target.port ?? through.port,
            user: target.user ?? through.user,
            identityFiles: through.identityFiles,
            agent: through.agent,
          }),
        });
      } else if (target.kind === 'external') {
        hops.push({ label: item.text, ...externalHop(target, endpoint, context) });
      } else {
        // Inventory values were reported where they were written; a ProxyJump from the ssh
        // config has no place in the inventory but the host's name.
        if (item.fromSshConfig) {
          issues.push(
            issueAt(
              context.source,
              item.path,
              'key',
              `ProxyJump '${item.text}' from ${context.sshConfig?.file ?? 'the ssh config'} is not a usable jump host`,
              'an inventory host name, or [user@]host[:port]',
            ),
          );
        }
        ok = false;
      }
    }
    const result = ok ? hops : undefined;
    // Only a chain computed from the top is final; one computed inside a loop may be partial.
    if (visiting.length === 0 || result || !pathDependent) chains.set(name, result);
    return result;
  };

  const resolved: ResolvedConnections['endpoints'] = new Map();
  for (const host of hosts) {
    const jump = chainOf(host.name, []);
    if (!jump) continue;
    const { transport, address, port, user, identityFiles, agent } = endpoints.get(host.name)!;
    resolved.set(host.name, { transport, ...withAgent({ address, port, user, identityFiles, agent }), jump });
  }
  return { endpoints: resolved, issues };
}

function loopIssue(source: YamlSource, item: JumpItem, loop: string[]): InventoryIssue {
  const self = loop.length === 2;
  const message = self
    ? `host '${loop[0]}' would jump through itself (a host inheriting a jump host can set jump: [] to opt out)`
    : `jump hosts form a loop: ${loop.join(' -> ')}`;
  return issueAt(source, item.path, item.fromSshConfig ? 'key' : 'value', message, 'a chain of jump hosts that does not loop');
}

/** Copies an endpoint, leaving `agent` out when unset. */
function withAgent(endpoint: Endpoint): Endpoint {
  const { agent, ...rest } = endpoint;
  return agent === undefined ? rest : { ...rest, agent };
}

function hostEndpoint(host: MergedHost, context: ConnectionContext & { cache: LoadCache }, issues: InventoryIssue[]): HostEndpoint {
  const { settings } = host;
  const { env, baseDir, cache } = context;
  const hostPath = ['hosts', host.name];
  const lookupName = settings.address?.value ?? host.name;
  const ssh: SshHostConfig = context.sshConfig?.lookup(lookupName) ?? { identityFiles: [] };

  const user = settings.user?.value ?? ssh.user ?? cache.localUser();
  const port = settings.port?.value ?? sshPort(ssh, lookupName, context, hostPath, issues) ?? DEFAULT_PORT;
  const tokens = {
    home: homeDirectory(env),
    localUser: cache.localUser(),
    host: lookupName,
    remoteUser: user,
    originalHost: lookupName,
  };
  const address =
    settings.address?.value ?? (ssh.hostName ? expandSshTokens(ssh.hostName, tokens, env) : undefined) ?? host.name;

  let identityFiles: string[];
  const configured = settings.identity_file?.value;
  if (configured !== undefined) {
    identityFiles = (typeof configured === 'string' ? [configured] : configured).map((file) => cache.resolvePath(baseDir, file));
  } else {
    identityFiles = sshIdentityFiles(ssh, { ...tokens, host: address }, env, cache);
  }

  let agent: string | undefined;
  const agentSetting = settings.agent?.value;
  if (agentSetting === true) agent = env.SSH_AUTH_SOCK || undefined;
  else if (typeof agentSetting === 'string') agent = cache.resolvePath(baseDir, agentSetting);
  else if (agentSetting === undefined && identityFiles.length === 0) agent = env.SSH_AUTH_SOCK || undefined;

  let jump: JumpItem[] = [];
  const jumpSetting = settings.jump;
  if (jumpSetting !== undefined) {
    jump =
      typeof jumpSetting.value === 'string'
        ? [{ text: jumpSetting.value, path: jumpSetting.path, fromSshConfig: false }]
        : jumpSetting.value.map((text, index) => ({ text, path: [...jumpSetting.path, index], fromSshConfig: false }));
  } else if (ssh.proxyJump && ssh.proxyJump.toLowerCase() !== 'none') {
    jump = ssh.proxyJump
      .split(',')
      .map((text) => text.trim())
      .filter((text) => text !== '')
      .map((text) => ({ text, path: hostPath, fromSshConfig: true }));
  }

  return { transport: 'ssh', address, port, user, identityFiles, agent, jump };
}

function localEndpoint(cache: LoadCache): HostEndpoint {
  return { transport: 'local', address: LOCAL_ADDRESS, port: 0, user: cache.localUser(), identityFiles: [], jump: [] };
}

/**
 * SSH keys written on a local host itself, or in the same layer as its `connection: local`, are
 * errors (each reported once, however many hosts share the layer); inherited ones do not apply.
 */
function checkLocalHost(host: MergedHost, source: YamlSource, issues: InventoryIssue[], reported: Set<string>): void {
  const connectionLayer = host.settings.connection!.path.slice(0, -1);
  for (const key of SSH_ONLY_KEYS) {
    const sourced = host.settings[key];
    if (!sourced) continue;
    const layer = sourced.path.slice(0, -1);
    const own = layer[0] === 'hosts';
    const beside = layer.length === connectionLayer.length && layer.every((segment, i) => segment === connectionLayer[i]);
    if (!own && !beside) continue;
    const id = sourced.path.join('\0');
    if (reported.has(id)) continue;
    reported.add(id);
    issues.push(
      issueAt(
        source,
        sourced.path,
        'key',
        `'${key}' is set for '${host.name}', which has connection: local (it runs on this machine as the orchestrator's user; ${key} does not apply)`,
        `no ${SSH_ONLY_KEYS.join(', ')} on a host with connection: local`,
      ),
    );
  }
}

function sshPort(
  ssh: SshHostConfig,
  lookupName: string,
  context: ConnectionContext,
  hostPath: DocPath,
  issues: InventoryIssue[],
): number | undefined {
  if (ssh.port === undefined) return undefined;
  const port = parsePort(ssh.port);
  if (port !== undefined) return port;
  issues.push(
    issueAt(
      context.source,
      hostPath,
      'key',
      `${context.sshConfig?.file ?? 'the ssh config'} gives Port '${ssh.port}' for '${lookupName}'`,
      'an integer from 1 to 65535',
    ),
  );
  return undefined;
}

function parsePort(text: string | undefined): number | undefined {
  const port = Number(text);
  return text !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** IdentityFile entries with tokens expanded; like ssh, files that do not exist are skipped. */
function sshIdentityFiles(
  ssh: SshHostConfig,
  tokens: Parameters<typeof expandSshTokens>[1],
  env: NodeJS.ProcessEnv,
  cache: LoadCache,
): string[] {
  return ssh.identityFiles
    .map((file) => resolvePath(homeDirectory(env), expandSshTokens(file, tokens, env), env))
    .filter((file) => cache.isFile(file));
}

/** A hop outside the inventory: the ssh config for its name fills what the spec leaves out. */
function externalHop(
  target: { host: string; user?: string; port?: number },
  via: Endpoint,
  context: ConnectionContext & { cache: LoadCache },
): Endpoint {
  const { env, cache } = context;
  const ssh: SshHostConfig = context.sshConfig?.lookup(target.host) ?? { identityFiles: [] };
  const user = target.user ?? ssh.user ?? cache.localUser();
  const tokens = {
    home: homeDirectory(env),
    localUser: cache.localUser(),
    host: target.host,
    remoteUser: user,
    originalHost: target.host,
  };
  const address = ssh.hostName ? expandSshTokens(ssh.hostName, tokens, env) : target.host;
  const port = target.port ?? parsePort(ssh.port) ?? DEFAULT_PORT;
  const own = sshIdentityFiles(ssh, { ...tokens, host: address }, env, cache);
  // Without keys of its own in the ssh config, a hop is tried with the target host's keys and agent.
  return withAgent({
    address,
    port,
    user,
    identityFiles: own.length > 0 ? own : via.identityFiles,
    agent: via.agent,
  });
}

// The user's OpenSSH client config (~/.ssh/config or the inventory's ssh_config), read with
// the ssh-config package: what it says about one host name (HostName, User, Port,
// IdentityFile, ProxyJump). Include directives are followed; Match exec is never run.
// A config may be long (one Host block per machine of a fleet): each name is computed against
// only the blocks that can match it (the Host blocks naming it exactly, plus every block with
// a pattern, every Match block and every line outside a block), in the config's order, and
// each name is computed once.

import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { expandHome, homeDirectory } from './paths.js';

/** What the config says about one host, as written (tokens not yet expanded). */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: string;
  identityFiles: string[];
  proxyJump?: string;
}

type ConfigLine = SSHConfig[number];

/** The patterns of a Host line. */
function hostPatterns(line: ConfigLine): string[] | undefined {
  if (line.type !== SSHConfig.DIRECTIVE || !/^host$/i.test(line.param)) return undefined;
  return Array.isArray(line.value) ? line.value.map((part) => part.val) : line.value.split(/\s+/);
}

export class SshClientConfig {
  /** Host lines whose patterns are all plain names, by name (indexes into the config). */
  private byName?: Map<string, number[]>;
  /** Every other directive line (patterns, Match, lines outside a block). */
  private general?: number[];
  /** Every name written as a plain pattern on a Host line. */
  private aliases?: Set<string>;
  private readonly computed = new Map<string, SshHostConfig>();

  private constructor(
    readonly file: string,
    private readonly config: SSHConfig,
  ) {}

  private index(): void {
    if (this.byName) return;
    const byName = new Map<string, number[]>();
    const general: number[] = [];
    const aliases = new Set<string>();
    this.config.forEach((line, at) => {
      if (line.type !== SSHConfig.DIRECTIVE) return;
      const patterns = hostPatterns(line);
      if (patterns) for (const pattern of patterns) aliases.add(pattern);
      // ssh-config splits a string value at commas too; a plain pattern has none of * ? ! ,
      const plain = patterns?.every((pattern) => pattern !== '' && !/[*?!,]/.test(pattern));
      if (!patterns || !plain) {
        general.push(at);
        return;
      }
      for (const pattern of new Set(patterns)) {
        const lines = byName.get(pattern);
        if (lines) lines.push(at);
        else byName.set(pattern, [at]);
      }
    });
    this.byName = byName;
    this.general = general;
    this.aliases = aliases;
  }

  /** The config reduced to the lines that can apply to `name`, in their order. */
  private linesFor(name: string): SSHConfig {
    this.index();
    const own = this.byName!.get(name) ?? [];
    const general = this.general!;
    const picked = SSHConfig.parse('');
    let i = 0;
    let j = 0;
    while (i < own.length || j < general.length) {
      const next = j >= general.length || (i < own.length && own[i]! < general[j]!) ? own[i++]! : general[j++]!;
      picked.push(this.config[next]!);
    }
    return picked;
  }

  /** Reads and parses the file and the files it includes; throws when the file cannot be read. */
  static async load(file: string, env: NodeJS.ProcessEnv): Promise<SshClientConfig> {
    const text = await readWithIncludes(file, env, 0);
    return new SshClientConfig(file, SSHConfig.parse(text));
  }

  static fromText(file: string, text: string): SshClientConfig {
    return new SshClientConfig(file, SSHConfig.parse(text));
  }

  lookup(name: string): SshHostConfig {
    const known = this.computed.get(name);
    if (known) return { ...known, identityFiles: [...known.identityFiles] };
    const result = this.compute(name);
    this.computed.set(name, result);
    return { ...result, identityFiles: [...result.identityFiles] };
  }

  private compute(name: string): SshHostConfig {
    const computed = this.linesFor(name).compute(name, { ignoreCase: true, matchExec: false });
    const first = (key: string): string | undefined => {
      const value = computed[key];
      const text = Array.isArray(value) ? value[0] : value;
      return text === undefined || text === '' ? undefined : text;
    };
    const identity = computed.identityfile;
    const identityFiles = (Array.isArray(identity) ? identity : identity === undefined ? [] : [identity]).filter(
      (file) => file.toLowerCase() !== 'none',
    );
    return {
      hostName: first('hostname'),
      user: first('user'),
      port: first('port'),
      identityFiles,
      proxyJump: first('proxyjump'),
    };
  }

  /** True when a Host line names exactly this host (not only through a wildcard pattern). */
  hasHostAlias(name: string): boolean {
    this.index();
    return this.aliases!.has(name);
  }
}

export interface TokenValues {
  /** Local user's home directory (%d). */
  home: string;
  /** Local user name (%u). */
  localUser: string;
  /** Remote host name (%h). */
  host: string;
  /** Remote user name (%r). */
  remoteUser: string;
  /** The name as given on the command line (%n). */
  originalHost: string;
}

/** Expands ~ and the tokens %d %u %h %r %n %% of an IdentityFile or HostName. */
export function expandSshTokens(text: string, values: TokenValues, env: NodeJS.ProcessEnv): string {
  const table: Record<string, string> = {
    d: values.home,
    u: values.localUser,
    h: values.host,
    r: values.remoteUser,
    n: values.originalHost,
    '%': '%',
  };
  const expanded = text.replace(/%(.)/g, (whole, token: string) => table[token] ?? whole);
  return expandHome(expanded, env);
}

const MAX_INCLUDE_DEPTH = 16;

/** The file's text with each Include line replaced by the text of the files it names. */
async function readWithIncludes(file: string, env: NodeJS.ProcessEnv, depth: number): Promise<string> {
  const text = await readFile(file, 'utf8');
  if (depth >= MAX_INCLUDE_DEPTH || !/^\s*include\b/im.test(text)) return text;
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const include = /^\s*include\s*[=\s]\s*(.+?)\s*$/i.exec(line);
    if (!include) {
      lines.push(line);
      continue;
    }
    for (const pattern of include[1]!.split(/\s+/)) {
      for (const included of await expandIncludePattern(unquote(pattern), env)) {
        try {
          lines.push(await readWithIncludes(included, env, depth + 1));
        } catch {
          // OpenSSH ignores included files that cannot be read.
        }
      }
    }
  }
  return lines.join('\n');
}

/** Relative Include paths are in ~/.ssh; '*' and '?' are allowed in the last component. */
async function expandIncludePattern(pattern: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const expanded = expandHome(pattern, env);
  const path = isAbsolute(expanded) ? expanded : join(homeDirectory(env), '.ssh', expanded);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  const matcher = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    const entries = await readdir(dirname(path));
    return entries.filter((entry) => matcher.test(entry)).sort().map((entry) => join(dirname(path), entry));
  } catch {
    return [];
  }
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

// The SSH connector: one reused connection per host (through jump hosts when the
// inventory names them), host keys verified against known_hosts, keepalives, and
// retries with jitter for connection errors only (never for auth or host-key errors).
// Commands arrive as ShellCommand values, rendered here; errors show only their display().
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ConnectionSettings, JumpHop } from '../../inventory/types.js';
import type { CommandInput, Connector, ExecChannel, ExecExit, RunResult } from '../types.js';
import { commandText } from '../shell-command.js';
import { runToEnd } from '../run-to-end.js';
import { ConnectError, ConnectionLostError, classifyConnectError, describeFailure } from '../connect-errors.js';
import { backoffDelay, sleep } from './backoff.js';
import { KnownHosts, makeHostVerifier } from './known-hosts.js';

export interface HostKeyPolicy {
  knownHosts: KnownHosts;
  /** Record keys of hosts that are not in known_hosts yet (never replaces a known key). */
  acceptNew: boolean;
}

/** One hop of the chain: a jump host, or the target itself. */
type Endpoint = JumpHop;

type AuthMethod = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: ParsedKey };

const keyCache = new Map<string, Promise<ParsedKey>>();

/**
 * Read and parse a private key once per process, with an error that names the file. The parsed
 * key goes to every connection (ssh2 takes it as it is): parsing it again for each one cost about
 * 1 ms of CPU per host.
 */
function readPrivateKey(path: string): Promise<ParsedKey> {
  let pending = keyCache.get(path);
  if (!pending) {
    pending = readFile(path).then((data) => {
      const parsed = ssh2.utils.parseKey(data);
      if (parsed instanceof Error) {
        throw new Error(`cannot use private key ${path}: ${parsed.message} (keys with a passphrase must be loaded into ssh-agent)`);
      }
      return parsed;
    });
    keyCache.set(path, pending);
  }
  return pending;
}

async function authMethods(endpoint: Endpoint): Promise<AuthMethod[]> {
  const methods: AuthMethod[] = [];
  if (endpoint.agent) methods.push({ type: 'agent', username: endpoint.user, agent: endpoint.agent });
  for (const file of endpoint.identityFiles) {
    methods.push({ type: 'publickey', username: endpoint.user, key: await readPrivateKey(file) });
  }
  return methods;
}

function endpointOf(hop: JumpHop | (ConnectionSettings & { label: string })): Endpoint {
  return {
    label: hop.label,
    address: hop.address,
    port: hop.port,
    user: hop.user,
    identityFiles: hop.identityFiles,
    ...(hop.agent ? { agent: hop.agent } : {}),
  };
}

function forwardOut(client: Client, address: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, address, port, (error, stream) => (error ? reject(error) : resolve(stream)));
  });
}

export class SshConnector implements Connector {
  private chain: NodeSSH[] = [];
  private client: Client | null = null;
  private lost = false;

  constructor(
    readonly hostName: string,
    private readonly settings: ConnectionSettings,
    private readonly hostKeys: HostKeyPolicy,
  ) {}

  isConnected(): boolean {
    return this.client !== null && !this.lost;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    const retries = this.settings.retries;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connectOnce(attempt);
        return;
      } catch (error) {
        await this.dropConnection();
        const connectError = error as ConnectError;
        if (!(connectError instanceof ConnectError) || !connectError.retryable || attempt > retries || signal?.aborted) {
          throw error;
        }
        await sleep(backoffDelay(attempt), signal);
      }
    }
  }

  async reconnect(signal?: AbortSignal): Promise<void> {
    await this.dropConnection();
    await this.connect(signal);
  }

  private async connectOnce(attempt: number): Promise<void> {
    const hops: Endpoint[] = [
      ...this.settings.jump.map(endpointOf),
      endpointOf({ ...this.settings, label: this.hostName }),
    ];
    let sock: ClientChannel | undefined;
    for (const hop of hops) {
      const ssh = await this.connectHop(hop, sock, attempt);
      this.chain.push(ssh);
      const client = ssh.connection as Client;
      if (hop !== hops[hops.length - 1]) {
        sock = await forwardOut(client, hops[hops.indexOf(hop) + 1]!.address, hops[hops.indexOf(hop) + 1]!.port);
      } else {
        this.client = client;
        this.lost = false;
      }
    }
  }

  private async connectHop(hop: Endpoint, sock: ClientChannel | undefined, attempt: number): Promise<NodeSSH> {
    const endpoint = `${hop.user}@${hop.address}:${hop.port}${hop.label !== this.hostName ? ` (jump host ${hop.label})` : ''}`;
    const verifier = makeHostVerifier(this.hostKeys.knownHosts, hop.address, hop.port, this.hostKeys.acceptNew);
    const knownAlgorithms = this.hostKeys.knownHosts.knownKeyAlgorithms(hop.address, hop.port);
    const methods = await authMethods(hop);
    if (methods.length === 0) {
      throw new ConnectError(this.hostName, endpoint, 'auth', `${this.hostName}: no identity file and no ssh-agent configured for ${endpoint}`, attempt);
    }
    const config: ConnectConfig & { authHandler: AuthMethod[] } = {
      username: hop.user,
      readyTimeout: this.settings.connectTimeoutMs,
      keepaliveInterval: this.settings.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: verifier.verify as unknown as ConnectConfig['hostVerifier'],
      authHandler: methods,
      ...(sock ? { sock } : { host: hop.address, port: hop.port }),
      // Only the key types known_hosts has for this host, when it has any: a server must
      // not dodge the check by offering a type we have no record of.
      ...(knownAlgorithms.length > 0 ? { algorithms: { serverHostKey: knownAlgorithms } } : {}),
    };
    const ssh = new NodeSSH();
    try {
      await ssh.connect(config as never);
    } catch (error) {
      const hostKeyError = verifier.errorFor();
      if (hostKeyError) {
        const failure = hostKeyError.name === 'HostKeyChangedError' ? 'host-key-changed' : hostKeyError.name === 'RevokedHostKeyError' ? 'host-key-revoked' : 'host-key-unknown';
        throw new ConnectError(this.hostName, endpoint, failure, `${this.hostName}: ${hostKeyError.message}`, attempt, { cause: hostKeyError });
      }
      const failure = classifyConnectError(error);
      const detail = (error as Error)?.message ?? String(error);
      throw new ConnectError(this.hostName, endpoint, failure, `${this.hostName}: ${describeFailure(failure)} at ${endpoint} (${detail})`, attempt, { cause: error });
    }
    // A new key is recorded only now that the handshake has proved the server holds it.
    await verifier.commit();
    const client = ssh.connection as Client;
    // Small request/response exchanges (exec, events) must not wait for delayed ACKs.
    client.setNoDelay(true);
    // node-ssh stops listening for errors once connected; an error event with no
    // listener would crash the process, so keep one for the life of the connection.
    client.on('error', () => {
      this.lost = true;
    });
    client.on('close', () => {
      this.lost = true;
    });
    return ssh;
  }

  // node-ssh opens and disposes the connection (connectHop, dropConnection); exec goes to ssh2
  // directly, on purpose. node-ssh's execCommand (13.x) decodes every chunk to a string and keeps
  // all of it (a multi-GiB binary tar from collection would be corrupted and held in memory), reads
  // in flowing mode (no backpressure), ends stdin at once unless the whole input is given up front
  // (the present/need upload writes stdin only after the host's first line), and resolves on close
  // alike whether the command ended or the link dropped. Its SFTP helpers are unused: content
  // travels as one stream on a command's stdin, checked in the same session.
  async exec(command: CommandInput): Promise<ExecChannel> {
    const client = this.client;
    if (!client || this.lost) throw new ConnectionLostError(this.hostName);
    const { text, shown } = commandText(command);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(text, (error, stream) => {
        if (!error) return resolve(stream);
        if (this.lost) return reject(new ConnectionLostError(this.hostName));
        reject(new Error(`${this.hostName}: cannot start ${shown}: ${error.message}`, { cause: error }));
      });
    });
    let exit: ExecExit | undefined;
    let closedByUs = false;
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { exitCode: typeof code === 'number' ? code : null, ...(signal ? { signal } : {}) };
    });
    const done = new Promise<ExecExit>((resolve, reject) => {
      channel.on('close', (code?: number | null, signal?: string) => {
        // ssh2 repeats the exit status on close; take it from there if 'exit' was missed.
        if (!exit && typeof code === 'number') exit = { exitCode: code };
        if (!exit && signal) exit = { exitCode: null, signal };
        if (exit) resolve(exit);
        else if (closedByUs) resolve({ exitCode: null });
        else if (this.lost || !this.client) reject(new ConnectionLostError(this.hostName));
        else resolve({ exitCode: null });
      });
    });
    // A rejection nobody awaited must not crash the process; callers that care await it.
    done.catch(() => undefined);
    return {
      stdout: channel,
      stderr: channel.stderr,
      stdin: channel,
      done,
      close: () => {
        if (closedByUs) return;
        closedByUs = true;
        channel.close();
      },
    };
  }

  run(command: CommandInput, options: { stdin?: string | Buffer } = {}): Promise<RunResult> {
    return runToEnd(this, command, options);
  }

  async close(): Promise<void> {
    await this.dropConnection();
  }

  private async dropConnection(): Promise<void> {
    const chain = this.chain.reverse();
    this.chain = [];
    this.client = null;
    for (const ssh of chain) {
      try {
        ssh.dispose();
      } catch {
        // already gone
      }
    }
  }
}

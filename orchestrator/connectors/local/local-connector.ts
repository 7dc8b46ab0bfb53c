// The local connector (`connection: local` in the inventory, as Ansible and pyinfra offer): a
// host's commands run on the orchestrator's own machine, as the orchestrator's user, through
// execa, with the same contract as the SSH connector. Each command is `/bin/sh -c TEXT` started
// in the login (home) directory, as sshd starts a command in the user's shell there, in a process
// group of its own so that close() can end it and everything it started (by the group's PID)
// without touching the orchestrator; a phase the agent detached into a session of its own lives
// on, as it does over SSH.
//
// Differences from the SSH connector (against OpenSSH's sshd), by design:
// - the environment: HOME, USER, LOGNAME and SHELL are this machine's user's, as sshd sets them,
//   but PATH and the locale (LANG, LANGUAGE, LC_*, TZ) are copied from the orchestrator's own
//   environment, where sshd sets PATH itself (or PAM's /etc/environment does) and the locale
//   comes from PAM (/etc/default/locale); there is no SSH_CONNECTION, SSH_CLIENT or MAIL, and
//   nothing else of the orchestrator's passes (no SSH_AUTH_SOCK, no NODE_OPTIONS);
// - the shell is /bin/sh, not the user's login shell, so no startup file runs (bash started by
//   sshd reads ~/.bashrc); our commands are POSIX sh anyway;
// - there is no link to lose: connect() checks nothing and `done` never rejects with
//   ConnectionLostError; exec() after close() does (as over SSH);
// - close() sends the command's process group SIGHUP (what a hung-up session gets), then SIGKILL
//   2 s later if it is still there; over SSH a closed channel gives the command EOF and SIGPIPE.
//   So `done` after close() reports the signal (`HUP`) and settles once nothing of the group holds
//   the output open (up to 2 s), where over SSH it settles with a bare null exit once the channel
//   is closed;
// - when the orchestrator exits, its local commands still running get SIGHUP; over SSH, a
//   dropped link's commands get only EOF and SIGPIPE, when they next use their streams.
import type { ResultPromise } from 'execa';
import { homedir, userInfo } from 'node:os';
import type { CommandInput, Connector, ExecChannel, ExecExit, RunResult } from '../types.js';
import { ConnectionLostError } from '../connect-errors.js';
import { commandText } from '../shell-command.js';
import { runToEnd } from '../run-to-end.js';

/** How long a closed command's group has after SIGHUP before SIGKILL. */
const KILL_AFTER_MS = 2000;

/** Variables of the orchestrator's environment that a login on this machine would have too. */
const LOGIN_ENV = /^(PATH|LANG|LANGUAGE|TZ|LC_[A-Z_]+)$/;

/** Process groups still running, sent SIGHUP if the orchestrator exits (no orphans left on this machine). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGHUP');
  });
}

/** Signal a process group; false when it is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function loginEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && LOGIN_ENV.test(key)) out[key] = value;
  const user = userInfo();
  out.HOME = homedir();
  out.USER = user.username;
  out.LOGNAME = user.username;
  out.SHELL = user.shell || '/bin/sh';
  out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return out;
}

export class LocalConnector implements Connector {
  private connected = false;
  private readonly channels = new Set<ExecChannel>();

  constructor(
    readonly hostName: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  isConnected(): boolean {
    return this.connected;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.connected = true;
  }

  async reconnect(signal?: AbortSignal): Promise<void> {
    this.closeChannels();
    await this.connect(signal);
  }

  async exec(command: CommandInput): Promise<ExecChannel> {
    if (!this.connected) throw new ConnectionLostError(this.hostName);
    const { text, shown } = commandText(command);
    // Loaded on first use: a sweep with no local host never pays for execa.
    const { execa } = await import('execa');
    if (!this.connected) throw new ConnectionLostError(this.hostName);
    const child = execa('/bin/sh', ['-c', text], {
      cwd: homedir(),
      env: loginEnv(this.env),
      extendEnv: false,
      detached: true,
      buffer: false,
      reject: false,
      stdin: 'pipe',
      stripFinalNewline: false,
    });
    const pid = child.pid;
    if (pid === undefined) {
      const result = await child;
      throw new Error(`${this.hostName}: cannot start ${shown} on this machine: ${result.shortMessage ?? result.message}`);
    }
    trackGroup(pid);
    return this.channelOf(child, pid);
  }

  private channelOf(child: ResultPromise<{ buffer: false; reject: false }>, pid: number): ExecChannel {
    let closedByUs = false;
    // What sh does with its stdin is its business: a write after it exited must not crash us.
    child.stdin.on('error', () => undefined);
    const done: Promise<ExecExit> = child.then((result) => {
      liveGroups.delete(pid);
      this.channels.delete(channel);
      // After close(), the SIGKILL still comes for whatever of the group outlived sh.
      if (typeof result.exitCode === 'number') return { exitCode: result.exitCode };
      return result.signal ? { exitCode: null, signal: result.signal.replace(/^SIG/, '') } : { exitCode: null };
    });
    const channel: ExecChannel = {
      stdout: child.stdout,
      stderr: child.stderr,
      stdin: child.stdin,
      done,
      close: () => {
        if (closedByUs) return;
        closedByUs = true;
        child.stdin.destroy();
        if (!signalGroup(pid, 'SIGHUP')) return;
        setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_AFTER_MS).unref();
      },
    };
    this.channels.add(channel);
    return channel;
  }

  run(command: CommandInput, options: { stdin?: string | Buffer } = {}): Promise<RunResult> {
    return runToEnd(this, command, options);
  }

  async close(): Promise<void> {
    this.connected = false;
    this.closeChannels();
  }

  private closeChannels(): void {
    for (const channel of [...this.channels]) channel.close();
  }
}

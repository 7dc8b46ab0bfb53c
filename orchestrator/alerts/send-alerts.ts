// Telling someone: the inventory's `alerts:` runs a local command and/or POSTs to a webhook once per
// sweep that pages something, with every regression that sweep pages in one JSON document (the
// command gets it on its stdin, the webhook as the request body), so mail, chat or paging tools
// plug in and a bad night is one message, not twenty. Nothing is sent when nothing is paged.
//
// Each delivery has a time limit (alerts.timeout, default 30 s); a command still running then is
// stopped (TERM to its process group, KILL 2 s later). Every outcome is returned for the sweep's
// log and the CLI; a failed delivery never changes the sweep's results or its exit status.
//
// Secrets: header values are never logged (nor anything that contains one), `${NAME}` in a header
// value is read from the environment when the alert is sent (so the inventory need not hold the
// token), a webhook is named in logs by its origin only (a chat webhook's path is its secret), and
// a command by its program only (its arguments may carry a token).
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { Candidate } from '../analysis/findings.js';
import type { AlertsConfig } from '../inventory/types.js';
import { inertText } from '../inert-text.js';
import { ORCHESTRATOR } from '../version.js';

export const ALERT_SCHEMA = 'orchestrate/alert@1';
export const DEFAULT_ALERT_TIMEOUT_MS = 30_000;
/** After TERM, a command that has not exited gets KILL this much later. */
const KILL_GRACE_MS = 2_000;

export interface AlertRegression extends Candidate {
  /** The CLI's line for it: "NEW REGRESSION: host scenario metric +12.0% (...)". */
  line: string;
}

/** What a command reads on its stdin and a webhook receives as its body. */
export interface AlertPayload {
  schema: typeof ALERT_SCHEMA;
  sweepId: string;
  /** When the alert was made. */
  at: string;
  /** The inventory that ran the sweep. */
  inventory: string;
  /** The sweep's directory in the results store. */
  results: string;
  /** The report site's URL (the inventory's reports.url), when it names one. */
  report?: string;
  /** Every regression this sweep pages: confirmed ones, and unconfirmed ones when regressions.confirm.required is false. */
  regressions: AlertRegression[];
}

export interface AlertOutcome {
  kind: 'command' | 'webhook';
  /** What logs may show: the program's name, or the webhook's origin. */
  target: string;
  ok: boolean;
  /** "exit status 0", "HTTP 204", "timed out after 30 s", "cannot run: ...". */
  detail: string;
  durationMs: number;
}

/** The log and CLI line for an outcome. */
export function alertOutcomeLine(outcome: AlertOutcome, regressions: number): string {
  return `alert ${outcome.kind} ${outcome.target}: ${outcome.ok ? `sent ${regressions} regression(s)` : 'FAILED'} (${outcome.detail}, ${(outcome.durationMs / 1000).toFixed(1)} s)`;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Header values with `${NAME}` replaced from `env`; a missing variable is an error naming it. */
export function expandHeaders(headers: Record<string, string>, env: NodeJS.ProcessEnv): Record<string, string> {
  const expanded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    expanded[name] = value.replace(ENV_REFERENCE, (_, variable: string) => {
      const found = env[variable];
      if (found === undefined) throw new Error(`header ${name} names \${${variable}}, which is not set in the environment`);
      return found;
    });
  }
  return expanded;
}

/** `text` with every secret (of 3 characters or more) replaced by [redacted]. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join('[redacted]');
  return out;
}

const limitText = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

function clip(text: string, max = 300): string {
  const line = inertText(text.trim());
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

export function webhookTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export interface SendOptions {
  /** For `${NAME}` in header values and the command's environment; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `argv` with `body` on its stdin; ok when it exits 0 within `timeoutMs`. */
export function runAlertCommand(argv: readonly string[], body: string, timeoutMs: number, options: SendOptions = {}): Promise<AlertOutcome> {
  const started = Date.now();
  const target = basename(argv[0] ?? '');
  const done = (ok: boolean, detail: string): AlertOutcome => ({ kind: 'command', target, ok, detail, durationMs: Date.now() - started });
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: AlertOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve(outcome);
    };
    let child: ReturnType<typeof spawn>;
    try {
      // Its own process group, so that a timeout stops whatever it started too.
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: options.env ?? process.env });
    } catch (error) {
      resolve(done(false, `cannot run: ${clip((error as Error).message)}`));
      return;
    }
    const stopGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup('SIGTERM');
      killTimer = setTimeout(() => {
        stopGroup('SIGKILL');
        // Whatever it left holding its pipes, the alert is over.
        finish(done(false, `timed out after ${limitText(timeoutMs)}; stopped`));
      }, KILL_GRACE_MS);
    }, timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString();
    });
    child.on('error', (error) => finish(done(false, `cannot run: ${clip(error.message)}`)));
    child.on('close', (code, signal) => {
      if (timedOut) return finish(done(false, `timed out after ${limitText(timeoutMs)}; stopped`));
      const last = stderr.trim().split('\n').at(-1) ?? '';
      if (code === 0) return finish(done(true, 'exit status 0'));
      finish(done(false, `${signal ? `killed by ${signal}` : `exit status ${code}`}${last ? `: ${clip(last)}` : ''}`));
    });
    // A command that does not read its stdin is not a failure of the alert by itself.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(body);
  });
}

/** POSTs `body` (JSON) to the webhook; ok on a 2xx answer within `timeoutMs`. Redirects are not followed. */
export async function postWebhook(webhook: { url: string; headers: Record<string, string> }, body: string, timeoutMs: number, options: SendOptions = {}): Promise<AlertOutcome> {
  const started = Date.now();
  const target = webhookTarget(webhook.url);
  const done = (ok: boolean, detail: string): AlertOutcome => ({ kind: 'webhook', target, ok, detail, durationMs: Date.now() - started });
  let headers: Record<string, string>;
  try {
    headers = expandHeaders(webhook.headers, options.env ?? process.env);
  } catch (error) {
    return done(false, (error as Error).message);
  }
  const secrets = [...Object.values(headers), ...Object.values(webhook.headers)];
  const url = new URL(webhook.url);
  const pathSecrets = [url.pathname.length > 1 ? url.pathname : '', url.search, url.password, url.username].filter(Boolean);
  const safe = (text: string) => clip(redact(text, [...secrets, ...pathSecrets]));
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': `orchestrate/${ORCHESTRATOR.version}`, ...headers },
      redirect: 'manual',
      signal,
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return done(true, `HTTP ${response.status}`);
    if (response.status >= 300 && response.status < 400) return done(false, `HTTP ${response.status}: redirects are not followed`);
    return done(false, `HTTP ${response.status}${response.statusText ? ` ${safe(response.statusText)}` : ''}`);
  } catch (error) {
    if (signal.aborted) return done(false, `no answer within ${limitText(timeoutMs)}`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return done(false, safe(cause?.code ?? cause?.message ?? (error as Error).message));
  }
}

/** Sends `payload` to every target `config` names (at the same time); one outcome each. */
export async function sendAlerts(config: AlertsConfig, payload: AlertPayload, options: SendOptions = {}): Promise<AlertOutcome[]> {
  const body = `${JSON.stringify(payload, null, 2)}\n`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS;
  const sends: Promise<AlertOutcome>[] = [];
  if (config.command && config.command.length > 0) sends.push(runAlertCommand(config.command, body, timeoutMs, options));
  if (config.webhook) sends.push(postWebhook(config.webhook, body, timeoutMs, options));
  return Promise.all(sends);
}

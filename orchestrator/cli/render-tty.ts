// Live progress on a terminal: one line per host with its job, phase and progress,
// redrawn in place; events a person must not miss are printed above it for good.
// The only escape sequences written are log-update's own (erase the lines it drew): a host's
// progress message is shown marked and escaped («...», ../inert-text.ts), and every line drawn is
// made inert as a whole, so a host can neither move the cursor nor add a line.
// After the jobs (sweep-end) nothing more is drawn: the summary at the end reports what the steps
// after them did. Events a person is told on stderr (a full results disk, a compromised lock) go
// to `errorStream` at once, above the live lines.
import { createLogUpdate } from 'log-update';
import type { EngineEvent } from '../fleet/events.js';
import { eventText, stderrText, TOLD_ON_STDERR } from '../fleet/event-text.js';
import { hostText, inertText } from '../inert-text.js';

interface HostLine {
  job: string;
  phase: string;
  detail: string;
  fraction?: number;
  state: 'connecting' | 'running' | 'done' | 'failed' | 'unreachable';
  since: number;
}

const PERMANENT = new Set<EngineEvent['kind']>(['sweep-start', 'host-unreachable', 'budget-exceeded', 'interrupting', 'reconnecting', 'protocol-error', 'bundle-repaired']);
const SYMBOL: Record<HostLine['state'], string> = { connecting: '…', running: '▶', done: '✔', failed: '✘', unreachable: '✘' };

function bar(fraction: number | undefined, width = 12): string {
  if (fraction === undefined) return ''.padEnd(width + 2);
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function ttyRenderer(stream: NodeJS.WriteStream, errorStream: NodeJS.WritableStream = stream): { onEvent(event: EngineEvent): void; done(): void } {
  const update = createLogUpdate(stream);
  const hosts = new Map<string, HostLine>();
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const width = () => Math.max(40, (stream.columns ?? 100) - 1);

  const draw = () => {
    const nameWidth = Math.min(24, Math.max(4, ...[...hosts.keys()].map((h) => h.length)));
    const lines = [...hosts.entries()].map(([host, line]) => {
      const elapsed = `${Math.round((Date.now() - line.since) / 1000)}s`.padStart(5);
      const text = inertText(`${SYMBOL[line.state]} ${host.padEnd(nameWidth)} ${line.job.padEnd(10).slice(0, 24)} ${line.phase.padEnd(12)} ${bar(line.fraction)} ${elapsed} ${line.detail}`);
      // cut by code points, so a character outside the BMP is never split in half
      const chars = [...text];
      return chars.length > width() ? `${chars.slice(0, width() - 1).join('')}…` : text;
    });
    update(lines.join('\n'));
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      draw();
    }, 80);
  };

  return {
    onEvent(event) {
      if (TOLD_ON_STDERR.has(event.kind)) {
        if (!ended) update.clear();
        errorStream.write(stderrText(event));
        return;
      }
      if (ended) return;
      if (PERMANENT.has(event.kind)) {
        update.clear();
        stream.write(`${eventText(event)}\n`);
      }
      if ('host' in event) {
        const line = hosts.get(event.host) ?? { job: '', phase: '', detail: '', state: 'connecting', since: event.at };
        switch (event.kind) {
          case 'host-connect':
            line.detail = 'connecting';
            break;
          case 'host-ready':
            line.detail = 'connected';
            line.state = 'running';
            break;
          case 'host-unreachable':
            line.state = 'unreachable';
            line.detail = `unreachable: ${event.failure}`;
            break;
          case 'job-start':
            line.job = event.scenario;
            line.state = 'running';
            break;
          case 'phase-start':
            line.phase = event.phase;
            line.detail = '';
            delete line.fraction;
            break;
          case 'phase-progress':
            line.detail = hostText(event.message);
            if (event.fraction !== undefined) line.fraction = event.fraction;
            break;
          case 'reconnecting':
            line.detail = `reconnecting (attempt ${event.attempt})`;
            break;
          case 'job-end':
            line.state = event.status === 'ok' ? 'done' : 'failed';
            line.detail = event.status;
            delete line.fraction;
            break;
        }
        hosts.set(event.host, line);
        schedule();
      }
      if (event.kind === 'sweep-end') {
        ended = true;
        if (timer) clearTimeout(timer);
        timer = undefined;
        draw();
        update.done();
        stream.write(`${eventText(event)}\n`);
      }
    },
    done() {
      if (timer) clearTimeout(timer);
      update.done();
    },
  };
}

// Plain output for logs, cron and pipes: one timestamped line per event. eventText makes the
// host's words inert and marks them («...»), so a line always ends at its own newline. Events
// the summary reports at the end are not shown here; those a person is told on stderr go to
// `writeError` (a full results disk, a compromised lock).
import type { EngineEvent } from '../fleet/events.js';
import { eventText, REPORTED_AT_END, stderrText, timestamp, TOLD_ON_STDERR } from '../fleet/event-text.js';

export function plainRenderer(write: (text: string) => void, writeError: (text: string) => void = write): { onEvent(event: EngineEvent): void; done(): void } {
  return {
    onEvent: (event) => {
      if (TOLD_ON_STDERR.has(event.kind)) writeError(stderrText(event));
      else if (!REPORTED_AT_END.has(event.kind)) write(`${timestamp(event.at)} ${eventText(event)}\n`);
    },
    done: () => undefined,
  };
}

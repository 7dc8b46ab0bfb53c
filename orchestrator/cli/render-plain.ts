// Plain output for logs, cron and pipes: one timestamped line per event. eventText makes the
// host's words inert and marks them («...»), so a line always ends at its own newline.
import type { EngineEvent } from '../fleet/events.js';
import { eventText, timestamp } from '../fleet/event-text.js';

export function plainRenderer(write: (text: string) => void): { onEvent(event: EngineEvent): void; done(): void } {
  return {
    onEvent: (event) => write(`${timestamp(event.at)} ${eventText(event)}\n`),
    done: () => undefined,
  };
}

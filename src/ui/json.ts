/**
 * `--json`: one JSON object per event per line on stdout, and nothing else there. Progress
 * events come at most once a second per destination, plus whenever its phase changes, when
 * it reaches 100 % and when it ends.
 */
import type { EventSink, ProgressEvent } from "../coordinator/events.ts";
import { writeStdout } from "./output.ts";

/** Least time between two progress events of one destination. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * @example
 * const emit = jsonRenderer();
 * emit({ type: "warning", message: "skipped link" }); // {"type":"warning",...}\n on stdout
 */
export function jsonRenderer(
  write: (text: string) => void = writeStdout,
  now: () => number = () => performance.now(),
): EventSink {
  const last = new Map<string, { at: number; event: ProgressEvent }>();
  const due = (event: ProgressEvent) => {
    const previous = last.get(event.destination);
    if (!previous) return true;
    const complete = event.bytesDone === event.bytesTotal;
    return now() - previous.at >= PROGRESS_INTERVAL_MS || event.phase !== previous.event.phase ||
      event.state !== previous.event.state ||
      (complete && previous.event.bytesDone !== previous.event.bytesTotal);
  };
  return (event) => {
    if (event.type === "progress") {
      if (!due(event)) return;
      last.set(event.destination, { at: now(), event });
    }
    write(JSON.stringify(event) + "\n");
  };
}

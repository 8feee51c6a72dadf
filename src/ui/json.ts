/**
 * `--json`: one JSON object per event per line on stdout, and nothing else there. Progress
 * events come at most once a second per destination, plus whenever its phase changes, when
 * it reaches 100 % and when it ends. File events come in bursts (a destination reports up to
 * 512 at once), and those of one burst go out in one write, at the end of the task that made
 * them (a microtask): a write of its own for each cost the main thread, and the program
 * reading them, a system call and a wake-up per file. Any other event writes what is waiting
 * first, so the lines keep their order.
 */
import { eventLine, type EventSink, type ProgressEvent } from "../coordinator/events.ts";
import { writeStdout } from "./output.ts";

/** Least time between two progress events of one destination. */
const PROGRESS_INTERVAL_MS = 1000;
/** File events gathered beyond this many characters are written at once. */
const BURST_CHARS = 64 * 1024;

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
  let burst = "";
  const flush = () => {
    if (burst === "") return;
    const text = burst;
    burst = "";
    write(text);
  };
  return (event) => {
    if (event.type === "progress") {
      if (!due(event)) return;
      last.set(event.destination, { at: now(), event });
    }
    const line = eventLine(event);
    if (event.type !== "file") {
      flush();
      write(line);
      return;
    }
    if (burst === "") queueMicrotask(flush);
    burst += line;
    if (burst.length >= BURST_CHARS) flush();
  };
}

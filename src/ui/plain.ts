/**
 * Plain text on stderr, for a pipe or cron: a line as phases pass, every warning and error,
 * a progress line per destination at most every `progressIntervalMs`, and the summary.
 * No ANSI codes.
 */
import type { EventSink, RunEvent } from "../coordinator/events.ts";
import { eventLines, isProblem, type LineOptions, progressLine, summaryLines } from "./lines.ts";
import { writeStderr } from "./output.ts";

export interface PlainOptions extends LineOptions {
  /** Only errors and the summary. */
  quiet?: boolean;
  /** Least time between two progress lines of one destination; 0 for none. */
  progressIntervalMs?: number;
  now?: () => number;
}

/**
 * @example
 * const emit = plainRenderer();
 * emit({ type: "phase", phase: "analyze", state: "start" }); // "fanout: analyzing the source"
 */
export function plainRenderer(
  write: (text: string) => void = writeStderr,
  options: PlainOptions = {},
): EventSink {
  const { quiet = false, progressIntervalMs = 10_000, now = () => performance.now() } = options;
  const lastProgress = new Map<string, number>();
  const print = (lines: string[]) => {
    for (const line of lines) write(line + "\n");
  };
  return (event: RunEvent) => {
    if (event.type === "summary") return print(summaryLines(event));
    if (quiet && !isProblem(event)) return;
    if (event.type === "progress") {
      if (progressIntervalMs <= 0) return;
      const at = now();
      const last = lastProgress.get(event.destination);
      if (last === undefined) {
        // The first stats arrive at once; the first line waits a full interval.
        lastProgress.set(event.destination, at);
      } else if (at - last >= progressIntervalMs && event.bytesDone < event.bytesTotal) {
        lastProgress.set(event.destination, at);
        print([progressLine(event)]);
      }
      return;
    }
    print(eventLines(event, options));
  };
}

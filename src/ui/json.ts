/** `--json`: one JSON object per event per line on stdout, and nothing else there. */
import type { EventSink } from "../coordinator/events.ts";
import { writeStdout } from "./output.ts";

/**
 * @example
 * const emit = jsonRenderer();
 * emit({ type: "warning", message: "skipped link" }); // {"type":"warning",...}\n on stdout
 */
export function jsonRenderer(write: (text: string) => void = writeStdout): EventSink {
  return (event) => write(JSON.stringify(event) + "\n");
}

/** Events the renderer tests feed in, built the same way everywhere. */
import type { ProgressEvent } from "../../src/coordinator/events.ts";

/** A destination 30 % into copying 4 GiB at 24 MiB/s; `fields` override any of it. */
export function progressEvent(
  destination: string,
  fields: Partial<ProgressEvent> = {},
): ProgressEvent {
  return {
    type: "progress",
    destination,
    state: "running",
    phase: "copy",
    filesDone: 120,
    filesTotal: 400,
    bytesDone: 1.2 * 2 ** 30,
    bytesTotal: 4 * 2 ** 30,
    bytesPerSecond: 24 * 2 ** 20,
    etaSeconds: 65,
    workers: 4,
    retries: 0,
    failures: 0,
    ...fields,
  };
}

/** The --json renderer: one object per line, progress at most once a second per destination. */
import { assert } from "../deps.ts";
import type { ProgressEvent } from "../../src/coordinator/events.ts";
import { jsonRenderer } from "../../src/ui/json.ts";

function progress(
  destination: string,
  bytesDone: number,
  phase: "copy" | "verify" = "copy",
  state: ProgressEvent["state"] = "running",
): ProgressEvent {
  return {
    type: "progress",
    destination,
    state,
    phase,
    filesDone: 0,
    filesTotal: 1,
    bytesDone,
    bytesTotal: 100,
    bytesPerSecond: 1,
    etaSeconds: null,
    workers: 1,
    retries: 0,
    failures: 0,
  };
}

Deno.test("progress is thinned to one a second per destination, but phase changes, 100% and the end always print", () => {
  let now = 0;
  const lines: string[] = [];
  const emit = jsonRenderer((text) => lines.push(text), () => now);
  emit(progress("/a", 10));
  emit(progress("/b", 10));
  now = 250;
  emit(progress("/a", 20));
  now = 500;
  emit(progress("/a", 30, "verify"));
  now = 750;
  emit(progress("/a", 100, "verify"));
  now = 800;
  emit(progress("/a", 100, "verify"));
  now = 1800;
  emit(progress("/a", 100, "verify"));
  now = 1900;
  emit(progress("/a", 100, "verify", "ok"));
  emit({ type: "warning", message: "never thinned" });
  const printed = lines.map((line) => JSON.parse(line));
  assert.ok(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n")));
  assert.deepEqual(
    printed.map((e) =>
      e.type === "progress" ? `${e.destination}:${e.bytesDone}@${e.phase}` : e.type
    ),
    [
      "/a:10@copy",
      "/b:10@copy",
      "/a:30@verify",
      "/a:100@verify",
      "/a:100@verify",
      "/a:100@verify",
      "warning",
    ],
  );
});

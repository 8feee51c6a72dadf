/**
 * The live display on fixed snapshots: never wider than the terminal (so nothing wraps),
 * no colour under NO_COLOR, the fastest destination marked, phases as pills, warnings
 * above the bars, and the cursor given back at the end.
 */
import { assert } from "../deps.ts";
import type { ProgressEvent } from "../../src/coordinator/events.ts";
import type { Phase } from "../../src/coordinator/messages.ts";
import { displayWidth } from "../../src/ui/width.ts";
import { progressEvent } from "./fixtures.ts";
import { clock, type DisplayState, renderFrame, terminalRenderer } from "../../src/ui/terminal.ts";

const GiB = 2 ** 30;
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The shared progress event, fast enough here for a short ETA. */
function progress(destination: string, fields: Partial<ProgressEvent> = {}): ProgressEvent {
  return progressEvent(destination, { bytesPerSecond: 310 * 2 ** 20, etaSeconds: 9, ...fields });
}

function state(): DisplayState {
  const view = (name: string, phase: Phase, fields: Partial<ProgressEvent>) => ({
    name,
    phase,
    progress: progress(name, { phase, ...fields }),
  });
  return {
    analyze: "done",
    destinations: [
      view("/Volumes/Fast SSD/Backups/2026/card", "verify", {
        bytesDone: 3.5 * GiB,
        bytesPerSecond: 900 * 2 ** 20,
      }),
      view("/mnt/usb/写真/東京", "copy", { bytesPerSecond: 80 * 2 ** 20, etaSeconds: 3725 }),
      view("/mnt/nas/card", "copy", { bytesPerSecond: 12 * 2 ** 20, etaSeconds: null, workers: 1 }),
    ],
  };
}

Deno.test("no line is wider than the terminal, whatever its width, with CJK names too", () => {
  for (const columns of [40, 60, 80, 100, 160]) {
    for (const color of [false, true]) {
      const lines = renderFrame(state(), columns - 1, color);
      assert.equal(lines.length, 4);
      for (const line of lines) {
        const width = displayWidth(line.replace(ANSI, ""));
        assert.ok(width <= columns - 1, `${width} > ${columns - 1} at ${columns}: ${line}`);
      }
    }
  }
});

Deno.test("at 80 columns every destination shows its bar, percent, bytes, speed, ETA, phase and slots", () => {
  const [header, ssd, usb, nas] = renderFrame(state(), 79, false);
  assert.match(header, /Analyze ✓ · Manifest ✓ · \[Copy\] · Flush · \[Verify\]/);
  assert.match(header, /1 verifying, 2 copying/);
  assert.match(ssd, /^»/, "the fastest is marked");
  assert.match(usb, /^ /);
  assert.match(ssd, /█+░* 87% 3\.5\/4\.0 GiB +900 MiB\/s ETA 0:09 +verify ×4$/);
  assert.match(usb, /30% 1\.2\/4\.0 GiB 80\.0 MiB\/s ETA 1:02:05 copy +×4$/);
  assert.match(nas, /ETA — +copy +×1$/, "no ETA until there is enough data");
  assert.match(usb, /東京/, "the end of a long name stays");
  // Columns line up: the bars start and end at the same place.
  const barEnds = [ssd, usb, nas].map((line) =>
    displayWidth(line.slice(0, line.lastIndexOf("░") + 1))
  );
  assert.equal(new Set(barEnds).size, 1, `${barEnds}`);
});

Deno.test("NO_COLOR: a frame without colour has no escape codes; with colour it has", () => {
  assert.ok(renderFrame(state(), 79, false).every((line) => !line.includes("\x1b")));
  assert.ok(renderFrame(state(), 79, true).some((line) => line.includes("\x1b[")));
});

Deno.test("a narrow terminal drops the bytes first, then the speed, but keeps the bar", () => {
  const [, ssd] = renderFrame(state(), 50, false);
  assert.doesNotMatch(ssd, /GiB /);
  assert.match(ssd, /█/);
  assert.match(ssd, /87%/);
});

Deno.test("finished destinations read done or failed, and leave the fastest mark to others", () => {
  const finished = state();
  finished.destinations[0].progress!.state = "ok";
  finished.destinations[2].progress!.state = "failed";
  const [header, ssd, usb, nas] = renderFrame(finished, 79, false);
  assert.match(ssd, /done ✓/);
  assert.match(nas, /failed ✗/);
  assert.match(usb, /^»/);
  assert.match(header, /1 done, 1 copying, 1 failed/);
});

Deno.test("the renderer draws in place, prints warnings above the bars and gives the cursor back", async () => {
  let output = "";
  let columns = 80;
  const renderer = terminalRenderer((text) => output += text, {
    columns: () => columns,
    color: false,
    intervalMs: 10,
  });
  renderer.emit({ type: "phase", phase: "analyze", state: "start" });
  renderer.emit({ type: "phase", phase: "analyze", state: "end", files: 2, bytes: 10 });
  renderer.emit({ type: "phase", phase: "copy", state: "start", destination: "/a" });
  renderer.emit(progress("/a"));
  renderer.emit(progress("/b"));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(output.includes("\x1b[?25l"), "cursor hidden while drawing");

  renderer.emit({ type: "warning", message: "skipped link: symlink, not followed" });
  const afterWarning = output.slice(output.lastIndexOf("\x1b[J") + 3);
  assert.match(afterWarning, /^warning: skipped link: symlink, not followed\n/);
  assert.match(afterWarning, /\n»?\s?\/a /, "the bars come back below the warning");

  columns = 60;
  renderer.emit(progress("/a", { bytesDone: 2 * GiB }));
  await new Promise((resolve) => setTimeout(resolve, 30));
  renderer.close();
  assert.ok(output.endsWith("\n\x1b[?25h"), "cursor shown at the end");
  const lastFrame = output.slice(output.lastIndexOf("\x1b[J") + 3).split("\n");
  for (const line of lastFrame) assert.ok(displayWidth(line.replace(ANSI, "")) < 60, line);
  const redraws = output.split("\r\x1b[2A\x1b[J").length - 1;
  assert.ok(redraws >= 2, `redrawn in place ${redraws} times`);
  renderer.close();
});

Deno.test("clock reads like a clock", () => {
  assert.equal(clock(null), "—");
  assert.equal(clock(9), "0:09");
  assert.equal(clock(605), "10:05");
  assert.equal(clock(3725), "1:02:05");
});

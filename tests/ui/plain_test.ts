/**
 * The plain renderer, fed a fixed run's events: readable lines without ANSI codes, a summary
 * table with every destination, the failed files, and a last line that tells the truth.
 */
import { assert } from "../deps.ts";
import { plainRenderer } from "../../src/ui/plain.ts";
import type {
  BackupSummary,
  DestinationSummary,
  RunEvent,
  VerifySummary,
} from "../../src/coordinator/events.ts";
import { displayWidth } from "../../src/ui/width.ts";
import { progressEvent } from "./fixtures.ts";

const SSD = "/media/ssd/card";
const NAS = "/mnt/nas/card";

function destination(path: string, fields: Partial<DestinationSummary> = {}): DestinationSummary {
  return {
    path,
    copied: 1204,
    skipped: 3,
    failed: 0,
    verified: 1204,
    bytes: 48 * 2 ** 30,
    sharedBytes: 0,
    elapsedMs: 123_000,
    status: "ok",
    readBack: { source: "disk" },
    ...fields,
  };
}

function summary(fields: Partial<BackupSummary> = {}): BackupSummary {
  return {
    type: "summary",
    command: "backup",
    source: "/media/card",
    files: 1207,
    bytes: 48 * 2 ** 30,
    destinations: [destination(SSD), destination(NAS)],
    failures: [],
    elapsedMs: 125_000,
    exitCode: 0,
    ...fields,
  };
}

/** A run with one failed file on the NAS, as the coordinator reports it. */
function failingRun(): RunEvent[] {
  return [
    { type: "phase", phase: "analyze", state: "start" },
    { type: "phase", phase: "analyze", state: "end", files: 1207, bytes: 48 * 2 ** 30 },
    { type: "phase", phase: "manifest", state: "end", destination: SSD, files: 1204, bytes: 1e9 },
    { type: "phase", phase: "manifest", state: "end", destination: NAS, files: 1205, bytes: 1e9 },
    {
      type: "workers",
      destination: NAS,
      workers: 3,
      previous: 4,
      bytesPerSecond: 1e8,
      filesPerSecond: 12,
      reason: "x",
    },
    { type: "warning", message: "skipped DCIM/fifo: not a regular file", path: "DCIM/fifo" },
    {
      type: "file",
      destination: SSD,
      path: "DCIM/IMG_0001.CR3",
      size: 3_145_745,
      status: "verified",
      sha256: "a".repeat(64),
      attempts: 1,
    },
    {
      type: "file",
      destination: NAS,
      path: "DCIM/MVI_0003.MP4",
      size: 5_242_881,
      status: "failed",
      attempts: 4,
      error: "Input/output error (os error 5)",
    },
    { type: "phase", phase: "copy", state: "end", destination: SSD },
    { type: "phase", phase: "verify", state: "start", destination: SSD },
    summary({
      destinations: [
        destination(SSD),
        destination(NAS, { copied: 1203, failed: 1, verified: 1203, status: "failed" }),
      ],
      failures: [{
        destination: NAS,
        path: "DCIM/MVI_0003.MP4",
        error: "Input/output error (os error 5)",
      }],
      exitCode: 1,
    }),
  ];
}

/** Everything the renderer writes for `events`, as lines. */
function render(events: RunEvent[], options: Parameters<typeof plainRenderer>[1] = {}): string[] {
  let text = "";
  const emit = plainRenderer((chunk) => text += chunk, options);
  for (const event of events) emit(event);
  assert.ok(text.endsWith("\n"), "every line is finished");
  return text.slice(0, -1).split("\n");
}

Deno.test("plain output has no ANSI escape anywhere", () => {
  const lines = render(failingRun());
  assert.ok(lines.length > 5);
  assert.ok(!lines.join("\n").includes("\x1b"));
});

Deno.test("phases, warnings and a failed file are told as they happen", () => {
  const lines = render(failingRun());
  assert.equal(lines[0], "fanout: analyzing the source");
  assert.equal(lines[1], "fanout: source holds 1,207 files (48.0 GiB)");
  assert.ok(lines.includes(`fanout: ${SSD}: 1,204 files (953.7 MiB) to copy`), lines.join("\n"));
  assert.ok(lines.includes("warning: skipped DCIM/fifo: not a regular file"));
  assert.ok(lines.includes(
    `error: ${NAS}: DCIM/MVI_0003.MP4 failed after 4 attempt(s): Input/output error (os error 5)`,
  ));
  assert.ok(lines.includes(`fanout: ${SSD}: verifying`));
  assert.ok(!lines.some((line) => line.includes("IMG_0001.CR3")), "a good file is not a line");
});

Deno.test("the summary table has a header and one row per destination", () => {
  const lines = render(failingRun());
  const header = lines.findIndex((line) => /^ {2}destination\s+copied\s+skipped/.test(line));
  assert.ok(header >= 0, lines.join("\n"));
  const ssd = lines[header + 1].trim().split(/\s{2,}/);
  const nas = lines[header + 2].trim().split(/\s{2,}/);
  assert.deepEqual(ssd, [
    SSD,
    "1,204",
    "3",
    "0",
    "1,204",
    "48.0 GiB",
    "399.6 MiB/s",
    "2 min 03 s",
    "ok",
  ]);
  assert.deepEqual(nas, [
    NAS,
    "1,203",
    "3",
    "1",
    "1,203",
    "48.0 GiB",
    "399.6 MiB/s",
    "2 min 03 s",
    "failed",
  ]);
  // Numbers are right-aligned under their heading, the status left-aligned.
  const copiedEnd = lines[header].indexOf("copied") + "copied".length;
  assert.equal(lines[header + 1].indexOf("1,204") + "1,204".length, copiedEnd);
  assert.equal(lines[header + 2].indexOf("1,203") + "1,203".length, copiedEnd);
  const status = lines[header].indexOf("status");
  assert.equal(lines[header + 1].lastIndexOf("ok"), status);
  assert.equal(lines[header + 2].lastIndexOf("failed"), status);
});

Deno.test("the failed files are listed, and the last line says the run had failures", () => {
  const lines = render(failingRun());
  const list = lines.indexOf("failed files:");
  assert.ok(list >= 0, lines.join("\n"));
  assert.equal(lines[list + 1], `  ${NAS}: DCIM/MVI_0003.MP4: Input/output error (os error 5)`);
  assert.equal(lines.at(-1), "fanout: finished with failures");
});

Deno.test("a clean run ends by saying every copy was read back from disk", () => {
  const lines = render([summary()]);
  assert.ok(!lines.includes("failed files:"));
  assert.ok(lines.includes(`  ${SSD}: read back from disk`));
  assert.equal(lines.at(-1), "fanout: done, every copy read back from disk and verified");
});

Deno.test("a read-back from the page cache is said, with its reason, down to the last line", () => {
  const reason = "posix_fadvise is not available on this system";
  const lines = render([
    summary({
      destinations: [destination(SSD), destination(NAS, { readBack: { source: "cache", reason } })],
    }),
  ]);
  assert.ok(lines.includes(`  ${NAS}: read back from the page cache, not the disk: ${reason}`));
  assert.match(lines.at(-1)!, /^fanout: done, .*page cache/);
});

Deno.test("with several destinations the summary says how much of the source was read", () => {
  const lines = render([
    summary({
      destinations: [destination(SSD), destination(NAS, { sharedBytes: 47 * 2 ** 30 })],
    }),
  ]);
  assert.ok(
    lines.includes(
      "  49.0 GiB read from the source for 96.0 GiB of copies (47.0 GiB taken from one destination's read for another)",
    ),
    lines.join("\n"),
  );
  const alone = render([summary({ destinations: [destination(SSD)] })]);
  assert.ok(!alone.some((line) => line.includes("read from the source")), alone.join("\n"));
});

Deno.test("the last line tells of no copies and of unverified copies", () => {
  const nothing = summary({
    destinations: [destination(SSD, { copied: 0, verified: 0, readBack: null })],
  });
  assert.equal(render([nothing]).at(-1), "fanout: done, nothing to copy");
  const unverified = summary({ destinations: [destination(SSD, { verified: 0, readBack: null })] });
  assert.match(render([unverified]).at(-1)!, /not verified/);
});

Deno.test("a verify summary counts what was found, and its problems when it failed", () => {
  const verify: VerifySummary = {
    type: "summary",
    command: "verify",
    destination: SSD,
    files: 1207,
    verified: 1204,
    missing: 1,
    mismatched: 2,
    unreadable: 0,
    unsafe: 0,
    repaired: 0,
    bytes: 2 ** 30,
    readBack: { source: "disk" },
    elapsedMs: 4_200,
    exitCode: 1,
  };
  const lines = render([
    { type: "file", destination: SSD, path: "a.jpg", size: 1, status: "missing", error: "gone" },
    verify,
  ]);
  assert.deepEqual(lines, [
    "MISSING: a.jpg: gone",
    `fanout: ${SSD}: 1,204 of 1,207 files verified (1.00 GiB, read back from disk) in 4.2 s`,
    "fanout: 1 missing, 2 mismatched, 0 unreadable, 0 through a symlink",
  ]);
});

Deno.test("the table stays aligned on screen with a CJK destination name", () => {
  const wide = "/mnt/usb/\u5199\u771f/\u6771\u4eac";
  const lines = render([summary({ destinations: [destination(wide), destination(NAS)] })]);
  const header = lines.findIndex((line) => line.startsWith("  destination"));
  const columnEnd = (line: string, cell: string) =>
    displayWidth(line.slice(0, line.indexOf(cell) + cell.length));
  for (const row of [lines[header + 1], lines[header + 2]]) {
    assert.equal(columnEnd(row, "1,204"), columnEnd(lines[header], "copied"), row);
  }
});

Deno.test("--quiet keeps errors, failed files and the summary, and drops the rest", () => {
  const lines = render(failingRun(), { quiet: true });
  assert.ok(!lines.some((line) => line.startsWith("fanout: analyzing")));
  assert.ok(!lines.some((line) => line.startsWith("warning:")));
  assert.ok(!lines.some((line) => line.endsWith("to copy")));
  assert.ok(lines.includes(
    `error: ${NAS}: DCIM/MVI_0003.MP4 failed after 4 attempt(s): Input/output error (os error 5)`,
  ));
  assert.ok(lines.includes("failed files:"));
  assert.equal(lines.at(-1), "fanout: finished with failures");
});

const progress = progressEvent;

Deno.test("progress lines: the first after a full interval, then at most one per interval", () => {
  let now = 0;
  let text = "";
  const emit = plainRenderer((chunk) => text += chunk, {
    progressIntervalMs: 10_000,
    now: () => now,
  });
  // Stats every 250 ms for 25 s from two destinations.
  for (; now <= 25_000; now += 250) {
    emit(progress(SSD));
    emit(progress(NAS, { etaSeconds: null }));
  }
  const lines = text.trimEnd().split("\n");
  assert.deepEqual(lines, [
    `fanout: ${SSD}: copy 30%, 1.20 GiB of 4.00 GiB, 24.0 MiB/s, 1 min 05 s left`,
    `fanout: ${NAS}: copy 30%, 1.20 GiB of 4.00 GiB, 24.0 MiB/s, time left unknown yet`,
    `fanout: ${SSD}: copy 30%, 1.20 GiB of 4.00 GiB, 24.0 MiB/s, 1 min 05 s left`,
    `fanout: ${NAS}: copy 30%, 1.20 GiB of 4.00 GiB, 24.0 MiB/s, time left unknown yet`,
  ]);
  assert.ok(!text.includes("\x1b"));
});

Deno.test("no progress line for a finished destination, nor with an interval of 0", () => {
  for (
    const [progressIntervalMs, fields] of [[10_000, { bytesDone: 4 * 2 ** 30 }], [0, {}]] as const
  ) {
    let now = 0;
    let text = "";
    const emit = plainRenderer((chunk) => text += chunk, { progressIntervalMs, now: () => now });
    for (; now <= 60_000; now += 1000) emit(progress(SSD, fields));
    assert.equal(text, "", `interval ${progressIntervalMs}`);
  }
});

Deno.test("control characters in names are shown as escapes, never sent to the terminal", () => {
  const output: string[] = [];
  const emit = plainRenderer((text) => output.push(text));
  const evil = "evil\x1b[2Jname\nfake: line.jpg";
  emit({
    type: "file",
    destination: NAS,
    path: evil,
    size: 1,
    status: "failed",
    attempts: 1,
    error: `cannot open '${evil}'`,
  });
  emit(summary({ failures: [{ destination: NAS, path: evil, error: "gone" }], exitCode: 1 }));
  const text = output.join("");
  assert.ok(!text.includes("\x1b"), "no escape reaches the terminal");
  assert.ok(text.includes("evil\\x1b[2Jname\\nfake: line.jpg"));
  assert.ok(!/^fake: line/m.test(text), "a name cannot start a line of its own");
});

/**
 * What a person or a script sees while a backup runs: the live display under a real
 * pseudo-terminal (util-linux `script`), plain progress lines when piped, --json progress
 * reaching 100 %, --quiet and -v, and the run logs left in each destination.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { displayWidth } from "../../src/ui/width.ts";
import { events, fanoutArgs, runFanout, sh, testFolder, writeRandomFile } from "../helpers.ts";

const MiB = 2 ** 20;
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** What the display writes before each redraw: back to its first line, clear below. */
// deno-lint-ignore no-control-regex
const REDRAW = /\r\x1b\[\d+A\x1b\[J/;

/** A source of `files` × 1 MiB in a fresh test folder. */
async function card(folder: string, files: number): Promise<string> {
  const source = path.join(folder, "card");
  for (let i = 0; i < files; i++) await writeRandomFile(path.join(source, `IMG_${i}.CR3`), MiB);
  return source;
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

Deno.test("under a terminal every destination has a live bar with percent, speed and ETA, redrawn in place", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 6);
  const fast = path.join(folder.path, "ssd");
  const slow = path.join(folder.path, "nas");
  const command = [
    Deno.execPath(),
    ...fanoutArgs(["backup", "--limit", "2=4M", source, fast, slow]),
  ]
    .map(quote).join(" ");
  const transcript = path.join(folder.path, "typescript");
  const run = await sh("script", ["-qec", `stty cols 80 rows 24; ${command}`, transcript]);
  assert.equal(run.code, 0, run.stdout);
  const screen = await Deno.readTextFile(transcript);

  assert.ok(screen.includes("\x1b[?25l"), "the cursor is hidden while drawing");
  assert.ok(screen.trimEnd().includes("\x1b[?25h"), "and shown again");
  // The pseudo-terminal turns each "\n" into "\r\n".
  const frames = screen.split(REDRAW).slice(1).map((frame) =>
    frame.replace(ANSI, "").replaceAll("\r\n", "\n")
  );
  assert.ok(frames.length >= 6, `only ${frames.length} redraws in 3 s`);

  const slowLines = frames.map((frame) => frame.split("\n").find((line) => line.includes("/nas")));
  const percents = slowLines.map((line) => Number(/ (\d+)% /.exec(line ?? "")?.[1] ?? -1));
  assert.ok(new Set(percents).size >= 4, `the slow bar moves: ${percents}`);
  const middle = frames[Math.floor(frames.length / 2)];
  for (const name of ["ssd", "nas"]) {
    const line = middle.split("\n").find((l) => l.includes(`/${name} `));
    assert.ok(line, `${name} has a line:\n${middle}`);
    assert.match(line, /\d+%/);
    assert.match(line, /[KMG]iB\/s/);
    assert.match(line, /ETA (\d+:\d\d|—)/);
  }
  assert.match(middle, /Analyze ✓ · Manifest ✓/);
  for (const frame of frames) {
    // The summary after the last frame is plain text, free to wrap.
    for (const line of frame.split("\n\n")[0].split("\n")) {
      assert.ok(displayWidth(line) < 80, `wider than 79 columns: ${line}`);
    }
  }
  assert.match(
    screen.replace(ANSI, ""),
    /fanout: done, every copy read back from disk and verified/,
  );
});

Deno.test("piped, progress comes as plain lines at the interval asked for, without escape codes", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 4);
  const slow = path.join(folder.path, "nas");
  const run = await runFanout([
    "backup",
    "--bwlimit",
    "2M",
    "--progress-interval",
    "1",
    source,
    slow,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(!run.stderr.includes("\x1b"), "no ANSI codes");
  const lines = run.stderr.split("\n").filter((line) =>
    /^fanout: .*nas: (copy|verify) \d+%/.test(line)
  );
  assert.ok(lines.length >= 2, `progress lines:\n${run.stderr}`);
  assert.match(lines[0], /, \d+(\.\d+)? [KM]iB\/s, /);
  assert.match(run.stderr, /to 1 destination\(s\)/);
});

Deno.test("--json progress reaches 100% and ends ok for every destination", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 4);
  const destinations = [path.join(folder.path, "a"), path.join(folder.path, "b")];
  const run = await runFanout(["backup", "--json", "--limit", "2=2M", source, ...destinations]);
  assert.equal(run.code, 0, run.stderr);
  const all = events(run);
  for (const destination of destinations) {
    const progress = all.filter((e) => e.type === "progress" && e.destination === destination);
    assert.ok(progress.length >= 1);
    for (
      const field of [
        "filesDone",
        "filesTotal",
        "bytesDone",
        "bytesTotal",
        "bytesPerSecond",
        "workers",
      ]
    ) {
      assert.equal(typeof progress[0][field], "number", field);
    }
    const last = progress.at(-1);
    assert.deepEqual([last.bytesDone, last.bytesTotal, last.filesDone, last.state], [
      8 * MiB,
      8 * MiB,
      4,
      "ok",
    ]);
    assert.ok(progress.every((p, i) => i === 0 || p.bytesDone >= progress[i - 1].bytesDone));
  }
  const slowProgress = all.filter((e) =>
    e.type === "progress" && e.destination === destinations[1]
  );
  assert.ok(
    slowProgress.some((p) => p.etaSeconds !== null && p.etaSeconds > 0),
    "an ETA while running",
  );
});

Deno.test("--quiet prints only the summary; -v adds a line per file", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 2);
  const quiet = await runFanout(["backup", "--quiet", source, path.join(folder.path, "q")]);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stderr, /analyzing|to copy|verifying/);
  assert.match(quiet.stderr, /destination +copied/);
  const verbose = await runFanout(["backup", "-v", source, path.join(folder.path, "v")]);
  assert.match(verbose.stderr, /verified: .*\/v: IMG_0\.CR3/);
  assert.match(verbose.stderr, /verified: .*\/v: IMG_1\.CR3/);
});

Deno.test("each run leaves its log in each destination, the oldest pruned; --log appends the whole run", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 1);
  const destinations = [path.join(folder.path, "a"), path.join(folder.path, "b")];
  const log = path.join(folder.path, "fanout.ndjson");
  for (let run = 0; run < 3; run++) {
    const result = await runFanout([
      "backup",
      "--keep-logs",
      "2",
      "--log",
      log,
      source,
      ...destinations,
    ]);
    assert.equal(result.code, 0, result.stderr);
  }
  for (const destination of destinations) {
    const logs = [...Deno.readDirSync(path.join(destination, ".fanout", "logs"))].map((e) => e.name)
      .sort();
    assert.equal(logs.length, 2, `${logs}`);
    const lines = (await Deno.readTextFile(path.join(destination, ".fanout", "logs", logs[1])))
      .trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.equal(lines.at(-1).type, "summary");
    assert.ok(lines.every((e) => e.destination === undefined || e.destination === destination));
    assert.ok(lines.some((e) => e.type === "file" && e.destination === destination));
    assert.ok(!lines.some((e) => e.type === "progress"));
  }
  const whole = (await Deno.readTextFile(log)).trimEnd().split("\n").map((line) =>
    JSON.parse(line)
  );
  assert.equal(whole.filter((e) => e.type === "summary").length, 3);
  assert.deepEqual(
    new Set(whole.filter((e) => e.type === "file").map((e) => e.destination)),
    new Set(destinations),
  );
});

Deno.test("Ctrl-C during the live display gives the cursor back and exits 130", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 8);
  const command = [
    "timeout",
    "--preserve-status",
    "-s",
    "INT",
    // Long enough for Deno to start and draw on a loaded machine; the run needs 16 s.
    "3",
    Deno.execPath(),
    ...fanoutArgs(["backup", "--bwlimit", "1M", source, path.join(folder.path, "nas")]),
  ].map(quote).join(" ");
  const transcript = path.join(folder.path, "typescript");
  const run = await sh("script", ["-qec", `stty cols 80 rows 24; ${command}`, transcript]);
  assert.equal(run.code, 130);
  const screen = await Deno.readTextFile(transcript);
  const hidden = screen.lastIndexOf("\x1b[?25l");
  assert.ok(hidden >= 0, "the display was drawn");
  assert.ok(screen.lastIndexOf("\x1b[?25h") > hidden, "the cursor is shown again");
  assert.match(screen, /stopped by SIGINT/);
});

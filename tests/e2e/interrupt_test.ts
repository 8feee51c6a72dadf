/**
 * Runs that end early: Ctrl-C and SIGTERM stop within 2 seconds, remove their temp files and
 * record what was completed; a second Ctrl-C or kill -9 stops at once, and the next run
 * removes what was left, keeps what was finished, and completes the backup. Judged by
 * `diff -r` and `sha256sum -c`.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  events,
  fanoutArgs,
  jsonEvents,
  runFanout,
  sh,
  spawnFanout,
  tempFiles,
  testFolder,
  writeRandomFile,
} from "../helpers.ts";

const MiB = 2 ** 20;

async function card(folder: string): Promise<string> {
  const source = path.join(folder, "card");
  for (let i = 0; i < 12; i++) await writeRandomFile(path.join(source, `DCIM/IMG_${i}.CR3`), MiB);
  return source;
}

/** Starts a backup whose second destination crawls, and sends `signals` once it is under way. */
async function interrupted(source: string, destinations: string[], signals: Deno.Signal[]) {
  const child = spawnFanout(["backup", "--json", "--limit", "2=3M", source, ...destinations]);
  // deno-lint-ignore no-explicit-any
  const seen: any[] = [];
  let killedAt = 0;
  for await (const event of jsonEvents(child)) {
    seen.push(event);
    if (
      killedAt === 0 && event.type === "progress" && event.destination === destinations[1] &&
      event.bytesDone >= 4 * MiB
    ) {
      killedAt = performance.now();
      // Signals of one kind sent together merge into one: space them out.
      signals.forEach((signal, i) => setTimeout(() => child.kill(signal), i * 100));
    }
  }
  const status = await child.status;
  return { code: status.code, events: seen, stopMs: performance.now() - killedAt };
}

async function judge(source: string, destination: string): Promise<void> {
  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout + check.stderr);
}

Deno.test("Ctrl-C stops within 2 s, leaves no temp file, records what it finished; the next run completes", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destinations = [path.join(folder.path, "ssd"), path.join(folder.path, "nas")];
  const run = await interrupted(source, destinations, ["SIGINT"]);
  assert.equal(run.code, 130);
  assert.ok(run.stopMs < 2000, `took ${Math.round(run.stopMs)} ms to stop`);
  const summary = run.events.at(-1);
  assert.deepEqual([summary.type, summary.stoppedBy, summary.exitCode], ["summary", "SIGINT", 130]);
  assert.equal(summary.destinations[1].status, "stopped");
  for (const destination of destinations) {
    assert.deepEqual(await tempFiles(destination), [], `temp files left in ${destination}`);
  }

  // What the stopped destination recorded is on its disk, whole.
  const nas = destinations[1];
  const recorded = (await Deno.readTextFile(path.join(nas, ".fanout", "SHA256SUMS"))).trim().split(
    "\n",
  );
  assert.ok(recorded.length >= 1 && recorded.length < 12, `${recorded.length} recorded`);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], { cwd: nas });
  assert.equal(check.code, 0, check.stdout);

  const rerun = await runFanout(["backup", "--json", source, ...destinations]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const nasFiles = events(rerun).filter((e) => e.type === "file" && e.destination === nas);
  assert.equal(nasFiles.length, 12);
  const reread = nasFiles.filter((e) => e.status === "verified" && e.attempts === 0);
  assert.equal(
    reread.length,
    recorded.length,
    "the files finished before the stop are read back, not copied",
  );
  for (const destination of destinations) await judge(source, destination);
});

Deno.test("SIGTERM stops the same way, with exit 143", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destinations = [path.join(folder.path, "ssd"), path.join(folder.path, "nas")];
  const run = await interrupted(source, destinations, ["SIGTERM"]);
  assert.equal(run.code, 143);
  assert.equal(run.events.at(-1).stoppedBy, "SIGTERM");
  assert.deepEqual(await tempFiles(destinations[1]), []);
});

Deno.test("a second Ctrl-C stops at once; the next run removes its temp files and completes", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destinations = [path.join(folder.path, "ssd"), path.join(folder.path, "nas")];
  const run = await interrupted(source, destinations, ["SIGINT", "SIGINT"]);
  assert.equal(run.code, 130);
  assert.ok(!run.events.some((e) => e.type === "summary"), "no time for a summary");
  const rerun = await runFanout(["backup", source, ...destinations]);
  assert.equal(rerun.code, 0, rerun.stderr);
  for (const destination of destinations) {
    assert.deepEqual(await tempFiles(destination), []);
    await judge(source, destination);
  }
});

Deno.test("after kill -9 the next run removes the stale temp files and does not copy finished files again", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destinations = [path.join(folder.path, "ssd"), path.join(folder.path, "nas")];
  const run = await interrupted(source, destinations, ["SIGKILL"]);
  assert.equal(run.code, 137);
  const nas = destinations[1];
  const journal = await Deno.readTextFile(path.join(nas, ".fanout", "journal.ndjson"));
  const finished = journal.trim().split("\n").length;
  assert.ok(finished >= 1, "the killed run journalled the files it finished");
  const stale = await tempFiles(nas);
  assert.ok(stale.length >= 1, "the killed run left the copies in flight as temp files");

  const rerun = await runFanout(["backup", "--json", source, ...destinations]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.ok(
    events(rerun).some((e) =>
      e.type === "warning" &&
      e.message === `removed ${stale.length} temp file(s) left by an earlier run`
    ),
  );
  const nasFiles = events(rerun).filter((e) => e.type === "file" && e.destination === nas);
  const copiedAgain = nasFiles.filter((e) => e.attempts > 0).length;
  assert.ok(copiedAgain <= 12 - finished, `${copiedAgain} copied again, ${finished} were finished`);
  for (const destination of destinations) {
    assert.deepEqual(await tempFiles(destination), []);
    await judge(source, destination);
  }
  await assert.rejects(
    Deno.stat(path.join(nas, ".fanout", "journal.ndjson")),
    Deno.errors.NotFound,
  );
});

Deno.test("a large file killed mid-copy resumes from its temp file on the next run", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const size = 96 * MiB;
  await writeRandomFile(path.join(source, "clip.mov"), size);
  const destination = path.join(folder.path, "nas");
  const child = spawnFanout(["backup", "--json", "--bwlimit", "24M", source, destination]);
  let killed = false;
  for await (const event of jsonEvents(child)) {
    if (!killed && event.type === "progress" && event.bytesDone >= 40 * MiB) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  await child.status;
  const [temp] = await tempFiles(destination);
  const leftover = (await Deno.stat(temp)).size;
  assert.ok(leftover >= 32 * MiB && leftover < size, `${leftover} bytes left in ${temp}`);

  // The next run, under a shell that reports the bytes it wrote (its /proc io counts children).
  const command = [Deno.execPath(), ...fanoutArgs(["backup", "--json", source, destination])]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const output = await new Deno.Command("sh", {
    args: ["-c", `${command}; grep '^wchar' /proc/$$/io >&2`],
  }).output();
  assert.equal(output.code, 0);
  const all = new TextDecoder().decode(output.stdout).trim().split("\n").map((l) => JSON.parse(l));
  const clip = all.find((e) => e.type === "file" && e.path === "clip.mov");
  assert.deepEqual([clip.status, clip.resumed], ["verified", leftover]);
  const written = Number(/wchar: (\d+)/.exec(new TextDecoder().decode(output.stderr))![1]);
  assert.ok(
    written < size - leftover + 4 * MiB,
    `wrote ${written} bytes, ${size - leftover} were left`,
  );
  await judge(source, destination);
});

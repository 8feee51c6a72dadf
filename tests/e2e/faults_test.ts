/**
 * Failures stay where they happen: a file that cannot be written to one destination is
 * reported for that destination only, while the others complete; a source file that
 * changes while it is read is failed, never silently copied.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, jsonEvents, runFanout, sh, spawnFanout, testFolder } from "../helpers.ts";

Deno.test("a file or a symlink in the way fails the files below it, in that destination only, and nothing is written through the symlink", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  for (const rel of ["DCIM/a.jpg", "MISC/c.txt", "b.jpg"]) {
    await Deno.mkdir(path.dirname(path.join(source, rel)), { recursive: true });
    await Deno.writeTextFile(path.join(source, rel), `pixels of ${rel}`);
  }
  const good = path.join(folder.path, "good");
  const blocked = path.join(folder.path, "blocked");
  const elsewhere = path.join(folder.path, "elsewhere");
  await Deno.mkdir(blocked);
  await Deno.mkdir(elsewhere);
  // A plain file where the source has the folder DCIM, and a symlink out where it has MISC.
  await Deno.writeTextFile(path.join(blocked, "DCIM"), "in the way");
  await Deno.symlink(elsewhere, path.join(blocked, "MISC"));

  const run = await runFanout(["backup", "--json", "--retries", "2", source, good, blocked]);
  assert.equal(run.code, 1, run.stderr);
  const all = events(run);
  const failed = all.filter((e) => e.type === "file" && e.status === "failed");
  assert.deepEqual(
    failed.map((e) => [e.destination, e.path, e.attempts]).sort(),
    [[blocked, "DCIM/a.jpg", 1], [blocked, "MISC/c.txt", 1]],
    "failed at once: retrying cannot move what is in the way",
  );
  const errors = all.filter((e) => e.type === "error" && e.destination === blocked);
  assert.match(errors.find((e) => e.path === "DCIM").message, /a file is in the way/);
  assert.match(
    errors.find((e) => e.path === "MISC").message,
    /is a symlink, and fanout never writes through one/,
  );
  assert.deepEqual([...Deno.readDirSync(elsewhere)], [], "nothing was written through the symlink");

  const summary = all.at(-1);
  assert.equal(summary.exitCode, 1);
  const [goodSummary, blockedSummary] = summary.destinations;
  assert.deepEqual([goodSummary.status, goodSummary.verified], ["ok", 3]);
  assert.deepEqual(
    [blockedSummary.status, blockedSummary.verified, blockedSummary.failed],
    ["failed", 1, 2],
  );

  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, good]);
  assert.equal(diff.code, 0, diff.stdout);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: blocked,
  });
  assert.equal(check.code, 0, "only the good file is recorded: " + check.stdout);
  assert.equal(check.stdout.trim(), "b.jpg: OK");
});

Deno.test("a source file modified while it is copied is failed with 'source changed', and no copy is left", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await Deno.mkdir(source);
  const big = path.join(source, "clip.mov");
  // Sparse: reading it takes a moment, writing it nothing.
  assert.equal((await sh("truncate", ["-s", "1G", big])).code, 0);
  await Deno.writeTextFile(path.join(source, "note.txt"), "unchanged");
  const destination = path.join(folder.path, "dest");

  const child = spawnFanout(["backup", "--json", "--no-verify", source, destination]);
  // deno-lint-ignore no-explicit-any
  const all: any[] = [];
  for await (const event of jsonEvents(child)) {
    all.push(event);
    if (event.type === "phase" && event.phase === "analyze" && event.state === "end") {
      // The scan is done: change the file before the worker has finished reading it.
      await Deno.utime(big, new Date(), new Date(Date.now() + 60_000));
    }
  }
  assert.equal((await child.status).code, 1);
  const clip = all.find((e) => e.type === "file" && e.path === "clip.mov");
  assert.equal(clip.status, "failed");
  assert.match(clip.error, /source changed/);
  assert.equal(clip.attempts, 1, "a changed source is not retried");
  const note = all.find((e) => e.type === "file" && e.path === "note.txt");
  assert.equal(note.status, "copied");
  const left = [...Deno.readDirSync(destination)].map((e) => e.name).sort();
  assert.deepEqual(left, [".fanout", "note.txt"], "no copy and no temp file of the changed file");
});

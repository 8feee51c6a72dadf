/**
 * `--json`: stdout holds only NDJSON events, each with a type; per destination the phases
 * come in order; every file of every destination has a `file` event; `summary` is last.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, makeCardTree, runFanout, testFolder } from "../helpers.ts";

Deno.test("--json prints only events: phases in order, a file event per file per destination, summary last", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const fileCount = await makeCardTree(source);
  const destinations = ["one", "two", "three"].map((name) => path.join(folder.path, name));

  const run = await runFanout(["backup", "--json", source, ...destinations]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "", "nothing human on stderr with --json when all is well");
  const all = events(run);
  for (const event of all) assert.equal(typeof event.type, "string");

  assert.deepEqual(all[0], { type: "phase", phase: "analyze", state: "start" });
  const analyzeEnd = all.find((e) =>
    e.type === "phase" && e.phase === "analyze" && e.state === "end"
  );
  assert.equal(analyzeEnd.files, fileCount);

  for (const destination of destinations) {
    const phases = all.filter((e) => e.type === "phase" && e.destination === destination)
      .map((e) => `${e.phase}:${e.state}`);
    assert.deepEqual(phases, [
      "manifest:start",
      "manifest:end",
      "copy:start",
      "copy:end",
      "flush:start",
      "flush:end",
      "verify:start",
      "verify:end",
    ]);
    const files = all.filter((e) => e.type === "file" && e.destination === destination);
    assert.equal(files.length, fileCount);
    for (const file of files) {
      assert.equal(file.status, "verified");
      assert.match(file.sha256, /^[0-9a-f]{64}$/);
      assert.equal(typeof file.size, "number");
      assert.equal(typeof file.path, "string");
    }
  }

  const summary = all.at(-1);
  assert.equal(summary.type, "summary");
  assert.equal(all.filter((e) => e.type === "summary").length, 1);
  assert.equal(summary.exitCode, 0);
  assert.deepEqual(summary.destinations.map((d: { path: string }) => d.path), destinations);
  for (const d of summary.destinations) {
    assert.deepEqual(
      [d.copied, d.skipped, d.failed, d.verified, d.status],
      [fileCount, 0, 0, fileCount, "ok"],
    );
    assert.ok(d.elapsedMs > 0 && d.elapsedMs <= summary.elapsedMs);
    assert.equal(d.bytes, summary.bytes);
  }
});

Deno.test("--no-verify reports files as copied, not verified, and still hashes the source", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const fileCount = await makeCardTree(source);
  const destination = path.join(folder.path, "dest");
  const run = await runFanout(["backup", "--json", "--no-verify", source, destination]);
  assert.equal(run.code, 0, run.stderr);
  const all = events(run);
  assert.ok(!all.some((e) => e.type === "phase" && e.phase === "verify"));
  const files = all.filter((e) => e.type === "file");
  assert.equal(files.length, fileCount);
  assert.ok(files.every((e) => e.status === "copied" && /^[0-9a-f]{64}$/.test(e.sha256)));
  const summary = all.at(-1);
  assert.deepEqual([summary.destinations[0].verified, summary.destinations[0].readBack], [0, null]);
});

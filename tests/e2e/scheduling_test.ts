/**
 * Scheduling through the real CLI: a bandwidth-limited destination never holds back an
 * unlimited one and itself keeps to its limit; files complete small first, or in the
 * order asked for; priorities by glob come first; bad rates and levels are refused.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, runFanout, testFolder, writeRandomFile } from "../helpers.ts";

const MiB = 1024 * 1024;

Deno.test("a limited destination keeps to its rate and never holds back the unlimited one", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  for (let i = 0; i < 6; i++) await writeRandomFile(path.join(source, `IMG_${i}.CR3`), 2 * MiB);
  const fast = path.join(folder.path, "ssd");
  const slow = path.join(folder.path, "nas");
  const rate = 8 * MiB;

  const run = await runFanout([
    "backup",
    "--json",
    "--limit",
    `${slow}=8MiB/s`,
    source,
    fast,
    slow,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const summary = events(run).at(-1);
  const [fastSummary, slowSummary] = summary.destinations;
  // Written once and read back once, both through the limit.
  const floorMs = (2 * slowSummary.bytes / rate) * 1000;
  assert.ok(slowSummary.elapsedMs >= floorMs * 0.97, `${slowSummary.elapsedMs} ms < ${floorMs} ms`);
  assert.ok(
    slowSummary.elapsedMs <= floorMs * 1.5 + 1000,
    `limited too hard: ${slowSummary.elapsedMs} ms`,
  );
  assert.ok(
    fastSummary.elapsedMs < slowSummary.elapsedMs / 2,
    `fast ${fastSummary.elapsedMs} ms waited for slow ${slowSummary.elapsedMs} ms`,
  );
  const verifyEnds = events(run).filter((e) =>
    e.type === "phase" && e.phase === "verify" && e.state === "end"
  );
  assert.deepEqual(verifyEnds.map((e) => e.destination), [fast, slow], "fast verifies first");
});

Deno.test("with one worker, files under 1 MB complete first in path order, then larger ones from small to large; --order and --priority change that", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const sizes = [3 * MiB, 10, 200_000, 0, 5 * MiB, 4096, 1 * MiB + 1, 70_000];
  for (const [i, size] of sizes.entries()) {
    await writeRandomFile(
      path.join(source, `sub${i % 3}`, `file${i}.${i === 4 ? "MOV" : "bin"}`),
      size,
    );
  }
  const completed = async (...options: string[]) => {
    const destination = await Deno.makeTempDir({ dir: folder.path });
    const run = await runFanout([
      "backup",
      "--json",
      "--workers",
      "1",
      ...options,
      source,
      destination,
    ]);
    assert.equal(run.code, 0, run.stderr);
    return events(run).filter((e) => e.type === "file").map((e) => e.size as number);
  };
  // Under 1 MB, by path: sub0/file3, sub1/file1, sub1/file7, sub2/file2, sub2/file5.
  const small = [0, 10, 70_000, 200_000, 4096];
  const large = [1 * MiB + 1, 3 * MiB, 5 * MiB];
  assert.deepEqual(await completed(), [...small, ...large]);
  assert.deepEqual(await completed("--order", "large-first"), [...[...large].reverse(), ...small]);
  assert.deepEqual(await completed("--priority", "*.mov=critical"), [
    5 * MiB,
    ...small,
    1 * MiB + 1,
    3 * MiB,
  ]);
});

Deno.test("bad rates, levels and destinations for --limit are refused with exit 2", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await writeRandomFile(path.join(source, "a.jpg"), 10);
  const destination = path.join(folder.path, "dest");
  const cases: [string[], RegExp][] = [
    [["--bwlimit", "fast"], /--bwlimit.*Expected a rate/],
    [["--bwlimit", "0"], /Expected a rate/],
    [["--limit", "1=12 furlongs"], /Expected a rate/],
    [["--limit", "nowhere"], /Expected DEST=RATE/],
    [["--limit", "2=1M"], /--limit 2=… names no destination/],
    [["--priority", "*.CR3=urgent"], /Expected GLOB=LEVEL/],
    [["--order", "random"], /--order.*random/],
    [["--workers", "many"], /--workers/],
  ];
  for (const [options, message] of cases) {
    const run = await runFanout(["backup", ...options, source, destination]);
    assert.equal(run.code, 2, `${options.join(" ")}: ${run.stderr}`);
    assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, message);
  }
  assert.deepEqual([...Deno.readDirSync(folder.path)].map((e) => e.name), ["card"]);
});

/**
 * `fanout verify`: a byte flipped on one destination (size and mtime kept) is named, exit 1;
 * the other destinations verify clean; a missing file is named; a folder without records
 * is refused.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, flipOneByte, makeCardTree, runFanout, sh, testFolder } from "../helpers.ts";

Deno.test("verify names a flipped byte in one destination and passes the others", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destinations = ["ssd", "usb", "nas"].map((name) => path.join(folder.path, name));
  assert.equal((await runFanout(["backup", source, ...destinations])).code, 0);

  const damaged = path.join(destinations[1], "DCIM", "101CANON", "MVI_0003.MP4");
  const { mtime, size } = await Deno.lstat(damaged);
  await flipOneByte(damaged, 4_000_000);
  assert.deepEqual([(await Deno.lstat(damaged)).mtime, (await Deno.lstat(damaged)).size], [
    mtime,
    size,
  ]);

  const bad = await runFanout(["verify", destinations[1]]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /MISMATCH: DCIM\/101CANON\/MVI_0003\.MP4/);
  assert.equal(bad.stderr.match(/MISMATCH/g)?.length, 1, bad.stderr);

  for (const clean of [destinations[0], destinations[2]]) {
    const good = await runFanout(["verify", "--json", clean]);
    assert.equal(good.code, 0, good.stderr);
    const summary = events(good).at(-1);
    assert.equal(summary.type, "summary");
    assert.equal(summary.verified, summary.files);
    assert.equal(summary.mismatched, 0);
    assert.deepEqual(summary.readBack, { source: "disk" });
  }
});

Deno.test("verify names a missing file and a truncated one", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "dest");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  await Deno.remove(path.join(destination, "caf\u00e9.txt"));
  await Deno.truncate(path.join(destination, "My Trip", "photo 1.jpg"), 10);

  const run = await runFanout(["verify", "--json", destination]);
  assert.equal(run.code, 1);
  const problems = events(run).filter((e) => e.type === "file" && e.status !== "verified");
  assert.deepEqual(
    problems.map((e) => [e.path, e.status]).sort(),
    [["My Trip/photo 1.jpg", "mismatch"], ["caf\u00e9.txt", "missing"]],
  );
  const summary = events(run).at(-1);
  assert.deepEqual([summary.missing, summary.mismatched, summary.exitCode], [1, 1, 1]);
});

Deno.test("verify refuses a folder that fanout never backed up to, exit 2", async () => {
  await using folder = await testFolder();
  const run = await runFanout(["verify", folder.path]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /has no fanout records/);
  const missing = await runFanout(["verify", path.join(folder.path, "nope")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope/);
});

Deno.test("verify refuses a manifest that points outside the destination, naming the line", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "dest");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  const manifest = path.join(destination, ".fanout", "manifest.ndjson");
  const lines = (await Deno.readTextFile(manifest)).split("\n");
  lines[3] = JSON.stringify({
    path: "../card/empty-file",
    size: 0,
    mtimeMs: 0,
    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    verifiedAt: null,
  });
  await Deno.writeTextFile(manifest, lines.join("\n"));

  const run = await runFanout(["verify", destination]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(
    run.stderr,
    /manifest\.ndjson line 4: path "\.\.\/card\/empty-file" has a "\.\." segment/,
  );
  assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/, "no stack trace");
});

Deno.test("verify --repair copies the damaged and missing files again from the source and reads them back", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "nas");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  await flipOneByte(path.join(destination, "DCIM", "101CANON", "MVI_0003.MP4"), 1000);
  await Deno.remove(path.join(destination, "My Trip"), { recursive: true });

  const repair = await runFanout(["verify", "--json", "--repair", "--source", source, destination]);
  assert.equal(repair.code, 0, repair.stderr);
  const repaired = events(repair).filter((e) => e.type === "file" && e.status === "repaired");
  assert.deepEqual(repaired.map((e) => e.path).sort(), [
    "DCIM/101CANON/MVI_0003.MP4",
    "My Trip/notes  with  spaces .txt",
    "My Trip/photo 1.jpg",
  ]);
  assert.equal(events(repair).at(-1).repaired, 3);

  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, diff.stdout);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout);
  assert.equal((await runFanout(["verify", destination])).code, 0);
  // The records still match the copies, so the next backup has nothing to copy.
  const rerun = await runFanout(["backup", "--json", source, destination]);
  assert.equal(events(rerun).at(-1).destinations[0].copied, 0);
});

Deno.test("verify --repair refuses a file whose source no longer holds what was recorded", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "nas");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  await flipOneByte(path.join(destination, "DCIM", "100CANON", "IMG_0002.JPG"), 10);
  // The source changed since: copying it would not bring back what the backup recorded.
  await flipOneByte(path.join(source, "DCIM", "100CANON", "IMG_0002.JPG"), 20);

  const repair = await runFanout(["verify", "--repair", "--source", source, destination]);
  assert.equal(repair.code, 1);
  assert.match(
    repair.stderr,
    /IMG_0002\.JPG: not repaired: the source no longer holds the recorded content/,
  );
  const usage = await runFanout(["verify", "--repair", destination]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--repair needs --source/);
});

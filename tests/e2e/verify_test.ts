/**
 * `fanout verify`: a byte flipped on one destination (size and mtime kept) is named, exit 1;
 * the other destinations verify clean; a missing file is named; a folder without records
 * is refused.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, makeCardTree, runFanout, testFolder } from "../helpers.ts";

async function flipOneByte(file: string, offset: number): Promise<void> {
  const before = await Deno.lstat(file);
  using handle = await Deno.open(file, { read: true, write: true });
  const byte = new Uint8Array(1);
  await handle.seek(offset, Deno.SeekMode.Start);
  await handle.read(byte);
  byte[0] ^= 0xff;
  await handle.seek(offset, Deno.SeekMode.Start);
  await handle.write(byte);
  await handle.utime(before.atime!, before.mtime!);
}

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

/**
 * `--hash xxh128` and `--hash blake3` through the real CLI: a card with odd names backed up,
 * judged by `diff -r` and by `xxhsum -c` / `b3sum -c` in the destination; `fanout verify`
 * passes, then names a flipped byte. A rerun with another hash skips what did not change and
 * keeps its records good; a job's `hash` is used; a bad --hash is one line, exit 2.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  events,
  flipOneByte,
  makeCardTree,
  runFanout,
  sh,
  testFolder,
  writeRandomFile,
} from "../helpers.ts";

/** Names the tools escape, or (a newline) that xxhsum cannot list at all. */
const ODD_NAMES = ["back\\slash.bin", "line\nbreak.bin", "carriage\rreturn.bin"];

/** A card tree with the odd names too; returns the number of files. */
async function oddCard(root: string): Promise<number> {
  const count = await makeCardTree(root);
  for (const [i, name] of ODD_NAMES.entries()) {
    await writeRandomFile(path.join(root, "odd", name), 1000 + i);
  }
  return count + ODD_NAMES.length;
}

/** The checksum file of each algorithm and the command that checks it (in the destination). */
const JUDGES = {
  sha256: { sums: "SHA256SUMS", check: ["sha256sum", "--check", "--strict"] },
  xxh128: { sums: "XXH128SUMS", check: ["xxhsum", "--check", "--strict"] },
  blake3: { sums: "B3SUMS", check: ["b3sum", "--check"] },
} as const;

type Hash = keyof typeof JUDGES;

/** Runs the tool's check of `hash`'s checksum file in `destination`; returns the lines OK. */
async function judge(destination: string, hash: Hash): Promise<number> {
  const { sums, check } = JUDGES[hash];
  const run = await sh(check[0], [...check.slice(1), `.fanout/${sums}`], { cwd: destination });
  assert.equal(run.code, 0, `${check[0]} in ${destination}:\n${run.stdout}${run.stderr}`);
  return run.stdout.match(/: OK$/gm)?.length ?? 0;
}

/** The manifest's lines as objects, header first. */
async function manifest(destination: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path.join(destination, ".fanout", "manifest.ndjson"));
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

for (const hash of ["xxh128", "blake3"] as const) {
  Deno.test(`--hash ${hash}: judged by diff -r and ${JUDGES[hash].check[0]} -c; verify passes, then names a flipped byte`, async () => {
    await using folder = await testFolder();
    const source = path.join(folder.path, "card");
    const fileCount = await oddCard(source);
    const destinations = ["ssd", "nas"].map((name) => path.join(folder.path, name));

    const run = await runFanout(["backup", "--json", "--hash", hash, source, ...destinations]);
    assert.equal(run.code, 0, run.stderr);
    const files = events(run).filter((e) => e.type === "file");
    assert.equal(files.length, 2 * fileCount);
    const digits = hash === "xxh128" ? 32 : 64;
    for (const file of files) {
      assert.equal(file.status, "verified");
      assert.match(file[hash], new RegExp(`^[0-9a-f]{${digits}}$`), JSON.stringify(file));
      assert.equal(file.sha256, undefined, "one digest field, named for its algorithm");
    }

    for (const destination of destinations) {
      const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
      assert.equal(diff.code, 0, `diff -r ${destination}:\n${diff.stdout}${diff.stderr}`);
      // xxhsum has no escapes: the name with a newline is left out of XXH128SUMS.
      const listed = hash === "xxh128" ? fileCount - 1 : fileCount;
      assert.equal(await judge(destination, hash), listed);
      const records = await Deno.readDir(path.join(destination, ".fanout"));
      const names = (await Array.fromAsync(records)).map((e) => e.name).sort();
      assert.deepEqual(names, [JUDGES[hash].sums, "logs", "manifest.ndjson"].sort());
      const [header, ...entries] = await manifest(destination);
      assert.equal(header.hash, hash);
      assert.ok(entries.every((e) => typeof e[hash] === "string" && !("sha256" in e)));
    }

    const good = await runFanout(["verify", "--json", destinations[1]]);
    assert.equal(good.code, 0, good.stderr);
    const summary = events(good).at(-1);
    assert.deepEqual([summary.files, summary.verified], [fileCount, fileCount]);

    await flipOneByte(path.join(destinations[1], "odd", "line\nbreak.bin"), 500);
    await flipOneByte(path.join(destinations[1], "DCIM", "101CANON", "MVI_0003.MP4"), 4_000_000);
    const bad = await runFanout(["verify", destinations[1]]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /MISMATCH: DCIM\/101CANON\/MVI_0003\.MP4: content differs/);
    assert.match(bad.stderr, /MISMATCH: odd\/line\\nbreak\.bin: content differs/);
    assert.equal(bad.stderr.match(/MISMATCH/g)?.length, 2, bad.stderr);
    assert.equal((await runFanout(["verify", destinations[0]])).code, 0);
  });
}

Deno.test("a rerun with another --hash skips unchanged files, keeps their records and copies the rest with the new hash", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const fileCount = await oddCard(source);
  const destination = path.join(folder.path, "ssd");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  const before = await manifest(destination);

  await writeRandomFile(path.join(source, "DCIM", "100CANON", "IMG_0004.JPG"), 50_000);
  await writeRandomFile(path.join(source, "My Trip", "photo 1.jpg"), 300_001);
  const rerun = await runFanout(["backup", "--json", "--hash", "blake3", source, destination]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const files = events(rerun).filter((e) => e.type === "file");
  const copied = files.filter((e) => e.status === "verified").map((e) => e.path).sort();
  assert.deepEqual(copied, ["DCIM/100CANON/IMG_0004.JPG", "My Trip/photo 1.jpg"]);
  assert.ok(files.filter((e) => e.status === "verified").every((e) => e.blake3 && !e.sha256));
  const skipped = files.filter((e) => e.status === "skipped");
  assert.equal(skipped.length, fileCount - 1);
  assert.ok(skipped.every((e) => /^[0-9a-f]{64}$/.test(e.sha256) && !e.blake3));

  const [header, ...entries] = await manifest(destination);
  assert.equal(header.hash, "blake3");
  const old = new Map(before.slice(1).map((e) => [e.path, e]));
  for (const entry of entries) {
    if (copied.includes(entry.path as string)) {
      assert.match(entry.blake3 as string, /^[0-9a-f]{64}$/);
      assert.equal(entry.sha256, undefined);
    } else {
      assert.deepEqual(entry, old.get(entry.path), `${entry.path} kept its record`);
    }
  }
  assert.equal(await judge(destination, "sha256"), fileCount - 1);
  assert.equal(await judge(destination, "blake3"), 2);
  const verify = await runFanout(["verify", "--json", destination]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(events(verify).at(-1).verified, fileCount + 1);

  // Everything copied again with xxh128: the SHA256SUMS and B3SUMS left over are removed.
  await Deno.remove(path.join(destination, ".fanout", "manifest.ndjson"));
  const fresh = await runFanout(["backup", "--hash", "xxh128", source, destination]);
  assert.equal(fresh.code, 0, fresh.stderr);
  const left = await Array.fromAsync(Deno.readDir(path.join(destination, ".fanout")));
  assert.deepEqual(
    left.map((e) => e.name).filter((name) => name.endsWith("SUMS")),
    ["XXH128SUMS"],
  );
  assert.equal(await judge(destination, "xxh128"), fileCount);
});

Deno.test('a job with hash = "blake3" runs with BLAKE3', async () => {
  await using folder = await testFolder();
  const fileCount = await makeCardTree(path.join(folder.path, "card"));
  const config = path.join(folder.path, "fanout.toml");
  await Deno.writeTextFile(
    config,
    `[jobs.card]\nsource = "card"\ndestinations = ["ssd"]\nhash = "blake3"\n`,
  );
  const run = await runFanout(["run", "card", "--config", config]);
  assert.equal(run.code, 0, run.stderr);
  const destination = path.join(folder.path, "ssd");
  assert.equal(await judge(destination, "blake3"), fileCount);
  assert.equal((await manifest(destination))[0].hash, "blake3");
  const diff = await sh("diff", [
    "-r",
    "--exclude=.fanout",
    path.join(folder.path, "card"),
    destination,
  ]);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
});

Deno.test("a bad --hash is refused in one line with the choices, exit 2", async () => {
  await using folder = await testFolder();
  const run = await runFanout([
    "backup",
    "--hash",
    "md5",
    folder.path,
    path.join(folder.path, "d"),
  ]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, /'md5' is invalid\. Allowed choices are sha256, xxh128, blake3/);
});

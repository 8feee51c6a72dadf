/**
 * Odd names and big files copy and verify: newlines, backslashes, leading dashes, names of
 * 255 bytes, a tree 100 folders deep, both Unicode normal forms side by side, and a sparse
 * file past 4 GiB (its holes kept). Judged by `diff -r`, `sha256sum -c` and `cmp`.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, runFanout, sh, testFolder, writeRandomFile } from "../helpers.ts";

Deno.test("odd names and a deep tree copy and verify, judged by diff -r and sha256sum -c", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const longName = "L".repeat(251) + ".jpg";
  const names = [
    "line\nbreak.jpg",
    "back\\slash.jpg",
    "-rf",
    "--help",
    longName,
    "caf\u00e9 NFC.txt",
    "cafe\u0301 NFC.txt".replace("NFC", "NFD"),
    "tab\there.txt",
    " leading and trailing space ",
  ];
  for (const [i, name] of names.entries()) await writeRandomFile(path.join(source, name), 100 + i);
  const deep = Array.from({ length: 100 }, (_, i) => `d${i}`).join("/");
  await writeRandomFile(path.join(source, deep, "bottom.raw"), 4096);
  assert.equal(new TextEncoder().encode(longName).length, 255);
  const destination = path.join(folder.path, "dest");

  const run = await runFanout(["backup", "--json", source, destination]);
  assert.equal(run.code, 0, run.stderr);
  const verified = events(run).filter((e) => e.type === "file" && e.status === "verified");
  assert.equal(verified.length, names.length + 1);
  assert.ok(verified.some((e) => e.path === "line\nbreak.jpg"));

  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const verify = await runFanout(["verify", destination]);
  assert.equal(verify.code, 0, verify.stderr);
  // Text output shows the newline as an escape, on one line.
  const plain = await runFanout(["backup", "-v", source, path.join(folder.path, "plain")]);
  assert.match(plain.stderr, /verified: .*: line\\nbreak\.jpg\n/);
});

Deno.test("a sparse file past 4 GiB copies whole, with its holes kept", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await Deno.mkdir(source);
  const big = path.join(source, "disk.img");
  assert.equal((await sh("truncate", ["-s", "4G", big])).code, 0);
  // Data in the middle and one byte past 4 GiB, where a 32-bit offset would wrap.
  for (const [offset, text] of [[3_000_000_000, "middle"], [2 ** 32, "!"]] as const) {
    await using file = await Deno.open(big, { write: true });
    await file.seek(offset, Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode(text));
  }
  const destination = path.join(folder.path, "dest");
  const run = await runFanout(["backup", "--no-verify", source, destination]);
  assert.equal(run.code, 0, run.stderr);

  const copy = await Deno.stat(path.join(destination, "disk.img"));
  assert.equal(copy.size, 2 ** 32 + 1);
  assert.ok(copy.blocks! * 512 < 64 * 2 ** 20, `the holes are kept: ${copy.blocks} blocks`);
  // cmp, not sha256sum: coreutils hashes 4 GiB at a third of the speed here.
  const cmp = await sh("cmp", [big, path.join(destination, "disk.img")]);
  assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  const verify = await runFanout(["verify", destination]);
  assert.equal(verify.code, 0, verify.stderr);
});

/**
 * CommitBatch on real files: copies get their final names only after the flush that makes
 * them durable, a failed flush renames nothing, and a full batch commits on its own. The
 * flush is a real syncfs where libc allows it.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { type BatchLimits, CommitBatch, CommitError } from "../../src/copy/commit_batch.ts";
import { tempPathFor } from "../../src/copy/durable.ts";
import { openLibc } from "../../src/libc.ts";
import { testFolder } from "../helpers.ts";

const exists = (file: string) => Deno.lstat(file).then(() => true, () => false);

/** Writes `names` as complete temp files in `folder`; returns their pending copies. */
async function tempCopies(folder: string, names: string[]) {
  const settled: { name: string; error?: unknown }[] = [];
  const copies = [];
  for (const name of names) {
    const target = path.join(folder, name);
    const temp = tempPathFor(target);
    await Deno.writeTextFile(temp, `content of ${name}`);
    copies.push({
      temp,
      target,
      bytes: 100,
      settle: (error?: unknown) => void settled.push({ name, error }),
    });
  }
  return { copies, settled };
}

const NO_LIMIT: BatchLimits = { files: 1000, bytes: 2 ** 40, delayMs: 60_000 };

Deno.test("copies carry their final names only after the flush that made them durable", async () => {
  await using folder = await testFolder();
  const names = ["a.jpg", "b.jpg", "c.jpg"];
  const { copies, settled } = await tempCopies(folder.path, names);
  const seenAtFlush: boolean[] = [];
  const batch = new CommitBatch(async () => {
    for (const copy of copies) {
      seenAtFlush.push(await exists(copy.target), !(await exists(copy.temp)));
    }
    return true;
  }, NO_LIMIT);
  for (const copy of copies) batch.add(copy);
  await batch.flush();

  assert.deepEqual(seenAtFlush, new Array(6).fill(false), "no final name, no missing temp");
  assert.deepEqual(settled, names.map((name) => ({ name, error: undefined })));
  for (const copy of copies) {
    assert.equal(await Deno.readTextFile(copy.target), `content of ${path.basename(copy.target)}`);
    assert.equal(await exists(copy.temp), false);
  }
});

Deno.test("a batch whose flush fails renames nothing: each copy fails and its temp goes", async () => {
  await using folder = await testFolder();
  const { copies, settled } = await tempCopies(folder.path, ["a.jpg", "b.jpg"]);
  const batch = new CommitBatch(() => Promise.resolve(false), NO_LIMIT);
  for (const copy of copies) batch.add(copy);
  await batch.flush();

  assert.equal(settled.length, 2);
  for (const { error } of settled) assert.ok(error instanceof CommitError, String(error));
  assert.deepEqual(await Array.fromAsync(Deno.readDir(folder.path)), [], "nothing is left");
});

Deno.test("a full batch commits on its own, and the next one fills meanwhile", async () => {
  await using folder = await testFolder();
  const { copies, settled } = await tempCopies(folder.path, ["1", "2", "3", "4", "5"]);
  let flushes = 0;
  const batch = new CommitBatch(() => Promise.resolve(++flushes > 0), {
    ...NO_LIMIT,
    files: 2,
  });
  for (const copy of copies) batch.add(copy);
  // Two full batches went without flush(); the fifth copy waits for its batch to fill.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(flushes, 2);
  assert.deepEqual(settled.map(({ name }) => name), ["1", "2", "3", "4"]);
  await batch.flush();
  assert.equal(flushes, 3);
  assert.deepEqual(settled.map(({ name }) => name), ["1", "2", "3", "4", "5"]);
});

Deno.test("a batch commits a moment after its first copy, without flush()", async () => {
  await using folder = await testFolder();
  const { copies, settled } = await tempCopies(folder.path, ["only.jpg"]);
  const batch = new CommitBatch(() => Promise.resolve(true), { ...NO_LIMIT, delayMs: 10 });
  batch.add(copies[0]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(settled, [{ name: "only.jpg", error: undefined }]);
  assert.equal(await exists(copies[0].target), true);
});

Deno.test({
  name: "libc's syncfs flushes the file system of a folder, and a closed handle refuses",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using folder = await testFolder();
    const libc = openLibc();
    assert.equal(typeof libc, "object", String(libc));
    if (typeof libc === "string") return;
    const handle = libc.openFileSystem(folder.path);
    assert.ok(handle);
    assert.equal(await handle.sync(), true);
    handle[Symbol.dispose]();
    assert.equal(await handle.sync(), false);
    assert.equal(libc.openFileSystem(path.join(folder.path, "missing")), null);
  },
});

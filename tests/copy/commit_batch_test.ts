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

/**
 * Writes `names` as complete temp files in `folder`; returns their copies (ids by position)
 * and what the batch said of each, in order, through `settle`.
 */
async function tempCopies(folder: string, names: string[]) {
  const settled: { name: string; error?: unknown }[] = [];
  const copies = [];
  for (const [id, name] of names.entries()) {
    const target = path.join(folder, name);
    const temp = tempPathFor(target);
    await Deno.writeTextFile(temp, `content of ${name}`);
    copies.push({ id, temp, target, bytes: 100 });
  }
  const settle = (id: number, error?: unknown) => void settled.push({ name: names[id], error });
  return { copies, settled, settle };
}

const NO_LIMIT: BatchLimits = { files: 1000, bytes: 2 ** 40, delayMs: 60_000, waiting: 1000 };

Deno.test("copies carry their final names only after the flush that made them durable", async () => {
  await using folder = await testFolder();
  const names = ["a.jpg", "b.jpg", "c.jpg"];
  const { copies, settled, settle } = await tempCopies(folder.path, names);
  const seenAtFlush: boolean[] = [];
  const batch = new CommitBatch(
    async () => {
      for (const copy of copies) {
        seenAtFlush.push(await exists(copy.target), !(await exists(copy.temp)));
      }
      return true;
    },
    settle,
    NO_LIMIT,
  );
  for (const { id, temp, target, bytes } of copies) batch.add(id, temp, target, bytes);
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
  const { copies, settled, settle } = await tempCopies(folder.path, ["a.jpg", "b.jpg"]);
  const batch = new CommitBatch(() => Promise.resolve(false), settle, NO_LIMIT);
  for (const { id, temp, target, bytes } of copies) batch.add(id, temp, target, bytes);
  await batch.flush();

  assert.equal(settled.length, 2);
  for (const { error } of settled) assert.ok(error instanceof CommitError, String(error));
  assert.deepEqual(await Array.fromAsync(Deno.readDir(folder.path)), [], "nothing is left");
});

Deno.test("a full batch commits on its own, and the next one fills meanwhile", async () => {
  await using folder = await testFolder();
  const { copies, settled, settle } = await tempCopies(folder.path, ["1", "2", "3", "4", "5"]);
  let flushes = 0;
  const batch = new CommitBatch(() => Promise.resolve(++flushes > 0), settle, {
    ...NO_LIMIT,
    files: 2,
  });
  for (const { id, temp, target, bytes } of copies) batch.add(id, temp, target, bytes);
  // Two full batches went without flush(); the fifth copy waits for its batch to fill.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(flushes, 2);
  assert.deepEqual(settled.map(({ name }) => name), ["1", "2", "3", "4"]);
  await batch.flush();
  assert.equal(flushes, 3);
  assert.deepEqual(settled.map(({ name }) => name), ["1", "2", "3", "4", "5"]);
});

Deno.test("with more than `waiting` batches waiting for their flush, add holds its caller back", async () => {
  await using folder = await testFolder();
  const names = ["1", "2", "3", "4", "5", "6"];
  const { copies, settled, settle } = await tempCopies(folder.path, names);
  // Each flush waits until the test lets it go.
  const release: (() => void)[] = [];
  const batch = new CommitBatch(
    () => new Promise<boolean>((resolve) => release.push(() => resolve(true))),
    settle,
    { ...NO_LIMIT, files: 1, waiting: 2 },
  );
  const held = copies.map(({ id, temp, target, bytes }) => batch.add(id, temp, target, bytes));
  // One batch a copy: the first two leave one and two waiting, the others more than two.
  assert.deepEqual(held.map((promise) => promise !== undefined), [
    false,
    false,
    true,
    true,
    true,
    true,
  ]);
  let freed = false;
  held[2]!.then(() => freed = true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(freed, false, "held back while the first flush lasts");
  assert.equal(settled.length, 0);
  release.shift()!();
  await held[2];
  assert.deepEqual(settled.map(({ name }) => name), ["1"]);
  // The others go as their flushes do.
  const flushed = batch.flush();
  while (settled.length < names.length) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    release.shift()?.();
  }
  await flushed;
  assert.deepEqual(settled.map(({ name }) => name), names);
});

Deno.test("a batch commits a moment after its first copy, without flush()", async () => {
  await using folder = await testFolder();
  const { copies, settled, settle } = await tempCopies(folder.path, ["only.jpg"]);
  const batch = new CommitBatch(() => Promise.resolve(true), settle, { ...NO_LIMIT, delayMs: 10 });
  const [{ id, temp, target, bytes }] = copies;
  batch.add(id, temp, target, bytes);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(settled, [{ name: "only.jpg", error: undefined }]);
  assert.equal(await exists(copies[0].target), true);
});

Deno.test("names in any script are renamed through libc's rename, and a failed rename is Deno's to explain", async () => {
  await using folder = await testFolder();
  const names = ["caf\u00e9.jpg", "\u5199\u771f.jpg", "e\u0301 \u{1F4F7}.jpg", "gone.jpg"];
  const { copies, settled, settle } = await tempCopies(folder.path, names);
  await Deno.remove(copies[3].temp);
  const libc = openLibc();
  const renamed: string[] = [];
  const decoder = new TextDecoder();
  const rename = typeof libc === "string" ? null : (temp: Uint8Array, target: Uint8Array) => {
    renamed.push(decoder.decode(target.subarray(0, -1)));
    return libc.rename(temp, target);
  };
  const batch = new CommitBatch(() => Promise.resolve(true), settle, NO_LIMIT, rename);
  for (const { id, temp, target, bytes } of copies) batch.add(id, temp, target, bytes);
  await batch.flush();
  assert.deepEqual(settled.map(({ name }) => name), names);
  for (const copy of copies.slice(0, 3)) {
    assert.equal(await Deno.readTextFile(copy.target), `content of ${path.basename(copy.target)}`);
  }
  assert.ok(settled[3].error instanceof Deno.errors.NotFound, String(settled[3].error));
  if (rename) assert.deepEqual(renamed, copies.map((copy) => copy.target));
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

/**
 * DirectReads (Linux): files read with O_DIRECT through Linux AIO, judged by their bytes as
 * written, and by /proc/self/io for whether the disk was read.
 */
import { assert } from "../deps.ts";
import { statfs } from "../../src/deps.ts";
import { openDirectReads } from "../../src/verify/direct_reads.ts";
import { randomBytes, sameBytes, storageReads, testFolder } from "../helpers.ts";

const SLOT = 68 * 1024;

/**
 * Whether the tests' folders are on a disk, on Linux: not in a file system in memory (tmpfs,
 * ramfs), which has no disk to read. Anywhere else DirectReads must work, or the tests fail.
 */
async function onLinuxDisk(): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  await using dir = await testFolder();
  return ![0x01021994, 0x858458f6].includes((await statfs(dir.path)).type);
}

/** Files of `sizes` random bytes under `folder`, written to the disk (clean pages, cached). */
async function filesOnDisk(folder: string, sizes: number[]): Promise<Uint8Array[]> {
  const contents = sizes.map(randomBytes);
  for (const [i, bytes] of contents.entries()) await Deno.writeFile(`${folder}/f${i}`, bytes);
  using handle = await Deno.open(folder);
  await handle.sync();
  for (let i = 0; i < sizes.length; i++) {
    using file = await Deno.open(`${folder}/f${i}`, { write: true });
    await file.sync();
  }
  return contents;
}

const ignore = !(await onLinuxDisk());

Deno.test({
  name: "DirectReads reads files of every size up to its slots whole, from the disk",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const sizes = [0, 1, 4095, 4096, 4097, 8191, 30_000, SLOT - 4097];
    const contents = await filesOnDisk(dir.path, sizes);
    using reads = openDirectReads(sizes.length, SLOT)!;
    const before = await storageReads();
    const slots = sizes.map((size, i) => reads.start(`${dir.path}/f${i}`, size));
    assert.ok(slots.every((slot) => slot !== null), `every read started: ${slots}`);
    for (const [i, slot] of slots.entries()) {
      assert(sameBytes(reads.finish(slot!), contents[i]), `f${i} (${sizes[i]} bytes) read wrong`);
      reads.release(slot!);
    }
    const total = sizes.reduce((sum, size) => sum + size, 0);
    // The pages were in the cache: only the disk gives them now.
    assert.ok(await storageReads() - before >= total, "not read from the disk");
  },
});

Deno.test({
  name: "DirectReads gives more than the size told of a file that grew, and refuses too big a one",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    await filesOnDisk(dir.path, [5000]);
    using reads = openDirectReads(2, SLOT)!;
    const slot = reads.start(`${dir.path}/f0`, 4000)!;
    assert.ok(reads.finish(slot)!.length > 4000, "more than the size told");
    reads.release(slot);
    assert.equal(reads.start(`${dir.path}/f0`, SLOT), null, "no room for the end");
    assert.equal(reads.start(`${dir.path}/missing`, 10), null);
  },
});

Deno.test({
  name:
    "DirectReads reads hundreds of files through a few slots, started ahead and finished in turn",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const sizes = Array.from({ length: 300 }, (_, i) => (i * 977) % 9000);
    const contents = await filesOnDisk(dir.path, sizes);
    using reads = openDirectReads(16, SLOT)!;
    const started: number[] = [];
    let next = 0;
    for (let done = 0; done < sizes.length; done++) {
      // A window of reads on their way, as the queue's read-ahead keeps one.
      while (next < sizes.length && next - done < 12) {
        const slot = reads.start(`${dir.path}/f${next}`, sizes[next]);
        assert.ok(slot !== null, `f${next} started`);
        started[next++] = slot;
      }
      const slot = started[done];
      assert(sameBytes(reads.finish(slot), contents[done]), `f${done} read wrong`);
      reads.release(slot);
    }
  },
});

Deno.test({
  name: "DirectReads with no slot free starts nothing, and a slot released is used again",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const contents = await filesOnDisk(dir.path, [100, 200]);
    using reads = openDirectReads(1, SLOT)!;
    const first = reads.start(`${dir.path}/f0`, 100)!;
    assert.equal(reads.start(`${dir.path}/f1`, 200), null);
    // Released without its bytes being asked for: the read is waited for first.
    reads.release(first);
    const second = reads.start(`${dir.path}/f1`, 200)!;
    assert(sameBytes(reads.finish(second), contents[1]), "f1 read wrong");
    reads.release(second);
  },
});

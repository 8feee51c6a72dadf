/**
 * copyFile on real files: the copy has the source's bytes, hash, mtime and mode, appears
 * only under its final name, and a source that changed leaves nothing behind. With the
 * source's chunks shared, a second destination takes what the first read and still refuses
 * a source that changed.
 */
import { assert } from "../deps.ts";
import { createHash, path } from "../../src/deps.ts";
import { SourceChangedError } from "../../src/errors.ts";
import type { SourceFile } from "../../src/coordinator/messages.ts";
import { copyFile } from "../../src/copy/copy_strategy.ts";
import { SharedChunks, sharedChunksMemory } from "../../src/copy/shared_chunks.ts";
import {
  CHUNK_SIZE,
  createHasher,
  HASH_ALGORITHMS,
  sha256Hasher,
} from "../../src/verify/hashers.ts";
import { sh, testFolder, writeRandomFile } from "../helpers.ts";

/** A fixed mtime in the past, with milliseconds, as a camera card holds it. */
const MTIME_MS = Date.UTC(2024, 4, 1, 10, 30, 15, 250);

/** Writes a source file of `size` random bytes with a known mtime and mode; returns its scan. */
async function makeSource(root: string, rel: string, size: number, mode = 0o640) {
  const sourcePath = path.join(root, "card", rel);
  await writeRandomFile(sourcePath, size);
  await Deno.chmod(sourcePath, mode);
  await Deno.utime(sourcePath, new Date(), new Date(MTIME_MS));
  const file: SourceFile = { path: rel, size, mtimeMs: MTIME_MS, mode: 0o100000 | mode };
  return { sourcePath, file };
}

/** Names in `folder` that look like fanout temp files. */
async function tempFiles(folder: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (/^\.fanout-.*\.tmp$/.test(entry.name)) names.push(entry.name);
  }
  return names;
}

async function destinationFolder(root: string): Promise<string> {
  const folder = path.join(root, "ssd");
  await Deno.mkdir(folder, { recursive: true });
  return folder;
}

for (const size of [0, 1, 64 * 1024, 3 * 1024 * 1024 + 17]) {
  Deno.test(`a ${size}-byte file is copied with its bytes, hash, mtime and mode`, async () => {
    await using folder = await testFolder();
    const { sourcePath, file } = await makeSource(folder.path, "IMG_0001.CR3", size);
    const target = path.join(await destinationFolder(folder.path), "IMG_0001.CR3");
    // A small buffer, so that a multi-chunk file takes many reads.
    const result = await copyFile(
      sourcePath,
      file,
      target,
      new Uint8Array(64 * 1024),
      sha256Hasher(),
    );

    const source = await Deno.readFile(sourcePath);
    const cmp = await sh("cmp", [sourcePath, target]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
    assert.equal(result.bytes, size);
    assert.equal(result.digest, createHash("sha256").update(source).digest("hex"));

    const info = await Deno.stat(target);
    assert.equal(info.mtime?.getTime(), MTIME_MS);
    if (Deno.build.os !== "windows") assert.equal(info.mode! & 0o777, 0o640);
    assert.deepEqual(await tempFiles(path.dirname(target)), []);
  });
}

for (const hash of HASH_ALGORITHMS) {
  Deno.test(`a copy streamed through a reused ${hash} hasher has the digest of its bytes`, async () => {
    await using folder = await testFolder();
    const destination = await destinationFolder(folder.path);
    const hasher = await createHasher(hash);
    for (const size of [3 * 64 * 1024 + 5, 10]) {
      const { sourcePath, file } = await makeSource(folder.path, `f${size}`, size);
      hasher.init();
      const target = path.join(destination, file.path);
      const result = await copyFile(sourcePath, file, target, new Uint8Array(64 * 1024), hasher);
      const whole = await createHasher(hash);
      whole.update(await Deno.readFile(sourcePath));
      assert.equal(result.digest, whole.digest(), `${size} bytes`);
    }
  });
}

// Both ways a copy is written: streamed and committed at once, or written whole and left for
// a batch to commit (deferCommit).
const WAYS = [{ deferCommit: false }, { deferCommit: true }];

for (const options of WAYS) {
  Deno.test(`the mode of the copy follows the source's, not the umask (${way(options)})`, async () => {
    await using folder = await testFolder();
    const destination = await destinationFolder(folder.path);
    for (const mode of [0o600, 0o755, 0o444]) {
      const { sourcePath, file } = await makeSource(folder.path, `m${mode.toString(8)}`, 10, mode);
      const target = path.join(destination, file.path);
      const { temp } = await copyFile(
        sourcePath,
        file,
        target,
        new Uint8Array(1024),
        sha256Hasher(),
        options,
      );
      if (Deno.build.os !== "windows") {
        assert.equal((await Deno.stat(temp ?? target)).mode! & 0o777, mode, mode.toString(8));
      }
    }
  });
}

function way({ deferCommit }: { deferCommit: boolean }): string {
  return deferCommit ? "written whole, commit deferred" : "streamed";
}

Deno.test("an existing target is replaced by the complete copy", async () => {
  await using folder = await testFolder();
  const { sourcePath, file } = await makeSource(folder.path, "a.jpg", 200_000);
  const target = path.join(await destinationFolder(folder.path), "a.jpg");
  await Deno.writeTextFile(target, "an old, longer or shorter version");
  await copyFile(sourcePath, file, target, new Uint8Array(4096), sha256Hasher());
  assert.deepEqual(await Deno.readFile(target), await Deno.readFile(sourcePath));
});

/** Ways a source can change after the scan, each of which the copy must refuse. */
const CHANGES: Record<string, (sourcePath: string, size: number) => Promise<void>> = {
  // Written again: same size, a newer mtime.
  "whose mtime differs from the scan": (sourcePath) =>
    Deno.utime(sourcePath, new Date(), new Date(MTIME_MS + 2000)),
  // Same mtime as scanned, another size.
  "that grew after the scan": async (sourcePath) => {
    await Deno.writeFile(sourcePath, new Uint8Array(10), { append: true });
    await Deno.utime(sourcePath, new Date(), new Date(MTIME_MS));
  },
  "that shrank after the scan": async (sourcePath, size) => {
    await Deno.truncate(sourcePath, size - 1);
    await Deno.utime(sourcePath, new Date(), new Date(MTIME_MS));
  },
};

for (const options of WAYS) {
  // A big file takes many reads; a small one fits one read, which must not pass for the end.
  for (const [name, size] of [["clip.mp4", 300_000], ["note.xmp", 5]] as const) {
    for (const [change, apply] of Object.entries(CHANGES)) {
      Deno.test(
        `a ${size}-byte source ${change} throws SourceChangedError and leaves nothing (${
          way(options)
        })`,
        async () => {
          await using folder = await testFolder();
          const { sourcePath, file } = await makeSource(folder.path, name, size);
          const destination = await destinationFolder(folder.path);
          await apply(sourcePath, size);
          await assert.rejects(
            copyFile(
              sourcePath,
              file,
              path.join(destination, name),
              new Uint8Array(4096),
              sha256Hasher(),
              options,
            ),
            SourceChangedError,
          );
          assert.deepEqual(
            await Array.fromAsync(Deno.readDir(destination)),
            [],
            "no target, no temp",
          );
        },
      );
    }
  }

  Deno.test(
    `a vanished source fails as a source change (never retried) and leaves no temp file (${
      way(options)
    })`,
    async () => {
      await using folder = await testFolder();
      const destination = await destinationFolder(folder.path);
      const file: SourceFile = { path: "gone.jpg", size: 5, mtimeMs: MTIME_MS, mode: 0o100644 };
      await assert.rejects(
        copyFile(
          path.join(folder.path, "gone.jpg"),
          file,
          path.join(destination, "gone.jpg"),
          new Uint8Array(16),
          sha256Hasher(),
          options,
        ),
        SourceChangedError,
        "the source file vanished before it was copied",
      );
      assert.deepEqual(await Array.fromAsync(Deno.readDir(destination)), []);
    },
  );
}

// Whole in one buffer (0, 1, 70,000 bytes) or streamed through a smaller one (3 MiB).
for (const size of [0, 1, 70_000, 3 * 1024 * 1024 + 5]) {
  Deno.test(`with deferCommit a ${size}-byte copy is a complete temp file with the source's digest, mode and mtime, and the final name stays free`, async () => {
    await using folder = await testFolder();
    const { sourcePath, file } = await makeSource(folder.path, "IMG_0002.JPG", size);
    const destination = await destinationFolder(folder.path);
    const target = path.join(destination, "IMG_0002.JPG");
    const result = await copyFile(
      sourcePath,
      file,
      target,
      new Uint8Array(1 << 20),
      sha256Hasher(),
      { deferCommit: true },
    );
    const sha256sum = await sh("sha256sum", [sourcePath]);
    assert.equal(result.digest, sha256sum.stdout.split(" ")[0]);
    assert.equal(result.bytes, size);

    assert.equal(result.temp, path.join(destination, (await tempFiles(destination))[0]));
    assert.deepEqual(await Array.fromAsync(Deno.readDir(destination), (e) => e.name), [
      path.basename(result.temp!),
    ]);
    const cmp = await sh("cmp", [sourcePath, result.temp!]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
    const info = await Deno.stat(result.temp!);
    assert.equal(info.mtime?.getTime(), MTIME_MS);
    assert.equal(info.mode! & 0o777, 0o640);
  });
}

Deno.test("with deferCommit a copy whose temp file cannot be made fails with Deno's error for it, and leaves nothing", async () => {
  await using folder = await testFolder();
  const { sourcePath, file } = await makeSource(folder.path, "IMG_0003.JPG", 5000);
  const destination = await destinationFolder(folder.path);
  // A plain file where the target's folder should be: neither libc nor Deno can make the temp.
  await Deno.writeTextFile(path.join(destination, "DCIM"), "in the way");
  const target = path.join(destination, "DCIM", "IMG_0003.JPG");
  const error = await copyFile(
    sourcePath,
    file,
    target,
    new Uint8Array(64 * 1024),
    sha256Hasher(),
    { deferCommit: true },
  ).then(() => null, (error) => error);
  assert(error instanceof Deno.errors.NotADirectory, `${error}`);
  assert.match(error.message, /Not a directory/);
  assert.deepEqual(await Array.fromAsync(Deno.readDir(destination), (e) => e.name), ["DCIM"]);
});

/** Files and buffers: one chunk (written whole with deferCommit), many small or large ones. */
const SHARED_SIZES = [[3000, 64 * 1024], [200_000, 64 * 1024], [5 * CHUNK_SIZE + 3, CHUNK_SIZE]];

/** Two destinations' copies of file 0 of one shared memory, as two workers would make them. */
function sharedCopies() {
  const memory = sharedChunksMemory(2, 1);
  return [0, 1].map((destination) => ({ chunks: new SharedChunks(memory, destination), file: 0 }));
}

for (const options of WAYS) {
  for (const [size, bufferSize] of SHARED_SIZES) {
    Deno.test(
      `a ${size}-byte file one destination read is taken by the other, not read again (${
        way(options)
      })`,
      async () => {
        await using folder = await testFolder();
        const { sourcePath, file } = await makeSource(folder.path, "IMG_0003.CR3", size);
        const [first, second] = sharedCopies();
        const copy = async (name: string, shared: typeof first) => {
          const destination = path.join(folder.path, name);
          await Deno.mkdir(destination);
          const target = path.join(destination, file.path);
          const buffer = new Uint8Array(bufferSize);
          const result = await copyFile(sourcePath, file, target, buffer, sha256Hasher(), {
            ...options,
            shared,
          });
          return { result, copy: result.temp ?? target };
        };
        const one = await copy("ssd", first);
        const two = await copy("usb", second);
        assert.equal(one.result.taken, 0);
        assert.equal(two.result.taken, size);
        assert.equal(two.result.digest, one.result.digest);
        for (const { copy } of [one, two]) {
          const cmp = await sh("cmp", [sourcePath, copy]);
          assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
          assert.equal((await Deno.stat(copy)).mtime?.getTime(), MTIME_MS);
        }
      },
    );
  }
}

for (const size of [5 * CHUNK_SIZE + 3, 3000]) {
  Deno.test(`a ${size}-byte copy taken from another destination's read still refuses a source changed since (streamed)`, async () => {
    await using folder = await testFolder();
    const { sourcePath, file } = await makeSource(folder.path, "clip.mp4", size);
    const [first, second] = sharedCopies();
    const buffer = new Uint8Array(CHUNK_SIZE);
    const ssd = await destinationFolder(folder.path);
    await copyFile(sourcePath, file, path.join(ssd, "clip.mp4"), buffer, sha256Hasher(), {
      shared: first,
    });
    await CHANGES["whose mtime differs from the scan"](sourcePath, size);
    const usb = path.join(folder.path, "usb");
    await Deno.mkdir(usb);
    await assert.rejects(
      copyFile(sourcePath, file, path.join(usb, "clip.mp4"), buffer, sha256Hasher(), {
        shared: second,
      }),
      SourceChangedError,
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(usb)), [], "no target, no temp");
  });
}

Deno.test("a small file read whole and checked by one destination is copied by the other without touching the source or hashing it again", async () => {
  await using folder = await testFolder();
  const { sourcePath, file } = await makeSource(folder.path, "IMG_0004.XMP", 4000);
  const bytes = await Deno.readFile(sourcePath);
  const [first, second] = sharedCopies();
  const copy = (name: string, shared: typeof first, hasher = sha256Hasher()) =>
    Deno.mkdir(path.join(folder.path, name)).then(() =>
      copyFile(
        sourcePath,
        file,
        path.join(folder.path, name, file.path),
        new Uint8Array(64 * 1024),
        hasher,
        { deferCommit: true, shared },
      )
    );
  const one = await copy("ssd", first);
  // The second copy does not open the source: it is gone, and the copy is still made.
  await Deno.remove(sourcePath);
  const fed: number[] = [];
  const hasher = sha256Hasher();
  const counting = {
    ...hasher,
    update: (chunk: Uint8Array) => (fed.push(chunk.length), hasher.update(chunk)),
  };
  const { temp, taken, digest } = await copy("usb", second, counting);
  assert.equal(taken, 4000);
  assert.deepEqual(await Deno.readFile(temp!), bytes);
  // Nor does it hash the bytes again: the first copy's digest of them came with them.
  assert.deepEqual(fed, []);
  assert.equal(digest, one.digest);
  const sum = await sh("sha256sum", [temp!]);
  assert.equal(sum.stdout.split(" ")[0], digest);
});

Deno.test("a small file another destination streamed (not checked whole) is checked against the source when taken", async () => {
  await using folder = await testFolder();
  const { sourcePath, file } = await makeSource(folder.path, "IMG_0005.XMP", 4000);
  const [first, second] = sharedCopies();
  const buffer = new Uint8Array(64 * 1024);
  const ssd = await destinationFolder(folder.path);
  await copyFile(sourcePath, file, path.join(ssd, file.path), buffer, sha256Hasher(), {
    shared: first,
  });
  await Deno.remove(sourcePath);
  const usb = path.join(folder.path, "usb");
  await Deno.mkdir(usb);
  await assert.rejects(
    copyFile(sourcePath, file, path.join(usb, file.path), buffer, sha256Hasher(), {
      deferCommit: true,
      shared: second,
    }),
    SourceChangedError,
    "vanished",
  );
});

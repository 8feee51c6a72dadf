/**
 * The whole-file libc calls (Linux): what they read and write is judged by Deno's own stat
 * and reads, and by `stat`, `touch` and `cmp` where an outside view is wanted.
 */
import { assert } from "./deps.ts";
import { type Libc, openLibc } from "../src/libc.ts";
import { randomBytes, sameBytes, sh, storageReads, testFolder } from "./helpers.ts";

const libc = openLibc();
const ignore = typeof libc === "string";

function native(): Libc {
  if (typeof libc === "string") throw new Error(libc);
  return libc;
}

async function outside(command: string, ...args: string[]): Promise<string> {
  const { stdout } = await sh(command, args);
  return stdout.trim();
}

// Times before 1970, with nanoseconds below the millisecond, and after.
const MTIMES = [
  "1960-03-04 05:06:07.123456789",
  "1970-01-01 00:00:00",
  "2024-03-04 05:06:07.987654321",
];

for (const [k, when] of MTIMES.entries()) {
  // Opened on a thread of its own, or (local) in a plain call.
  const local = k % 2 === 1;
  Deno.test({
    name: `readWhole reads a file whole and tells its size and mtime as Deno.stat does (${when}${
      local ? ", local" : ""
    })`,
    ignore,
    fn: async () => {
      await using dir = await testFolder();
      const file = `${dir.path}/a`;
      const bytes = randomBytes(70_000);
      await Deno.writeFile(file, bytes);
      await outside("touch", "-d", `${when} UTC`, file);
      const { mtime, size } = await Deno.stat(file);
      const buffer = new Uint8Array(128 * 1024);
      const read = await native().readWhole(file, buffer, size, { local });
      assert.deepEqual(read, { bytes: size, dropped: false, size, mtimeMs: mtime!.getTime() });
      assert(sameBytes(buffer.subarray(0, size), bytes), "the bytes read are not the file's");
    },
  });
}

/** What `read` gives, and the bytes this process read from storage meanwhile. */
async function readingStorage<T>(read: () => Promise<T>): Promise<{ result: T; reads: number }> {
  const before = await storageReads();
  const result = await read();
  return { result, reads: await storageReads() - before };
}

/** A file of 60,000 random bytes in `folder`, written to the disk: clean pages, which the cache can drop. */
async function fileOnDisk(folder: string): Promise<{ file: string; bytes: Uint8Array }> {
  const file = `${folder}/copy`;
  const bytes = randomBytes(60_000);
  await Deno.writeFile(file, bytes);
  using handle = await Deno.open(file, { write: true });
  await handle.sync();
  return { file, bytes };
}

Deno.test({
  name: "readWhole with drop drops the file from the page cache and reads it from the disk",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const { file, bytes } = await fileOnDisk(dir.path);
    const buffer = new Uint8Array(65536);
    const cached = await readingStorage(() => native().readWhole(file, buffer, bytes.length));
    assert.equal(cached.result?.dropped, false);
    assert.ok(cached.reads < bytes.length, "control: read from the cache");
    const { result: read, reads } = await readingStorage(() =>
      native().readWhole(file, buffer, bytes.length, { drop: true })
    );
    assert.deepEqual([read?.bytes, read?.dropped], [bytes.length, true]);
    assert.ok(reads >= bytes.length, "not read from the disk");
    assert(sameBytes(buffer.subarray(0, bytes.length), bytes), "the bytes read are not the file's");
  },
});

Deno.test({
  name: "readAhead with drop has the file read from the disk, which readWhole ahead then reads",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const { file, bytes } = await fileOnDisk(dir.path);
    const buffer = new Uint8Array(65536);
    const readAhead = (drop: boolean) =>
      readingStorage(async () => {
        const started = native().readAhead(file, drop);
        buffer.fill(0);
        const read = await native().readWhole(file, buffer, bytes.length, {
          local: true,
          ahead: true,
        });
        return { started, read };
      });
    // Control: in the cache, read ahead without a drop reads nothing from the disk.
    const cached = await readAhead(false);
    assert.equal(cached.result.started, "ahead");
    assert.ok(cached.reads < bytes.length, "control: read from the cache");
    const { result: { started, read }, reads } = await readAhead(true);
    assert.equal(started, "dropped");
    assert.deepEqual([read?.bytes, read?.size], [bytes.length, bytes.length]);
    assert.ok(reads >= bytes.length, "not read from the disk");
    assert(sameBytes(buffer.subarray(0, bytes.length), bytes), "the bytes read are not the file's");
    assert.equal(native().readAhead(`${dir.path}/missing`, true), null);
    assert.equal(native().readAhead(`${dir.path}/missing`, false), null);
  },
});

Deno.test({
  name: "openAhead keeps the file it read ahead open, and readWhole reads it from there",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const { file, bytes } = await fileOnDisk(dir.path);
    const opened = native().openAhead(file, true, true);
    assert.ok(opened && opened.fd >= 0 && opened.dropped, "read ahead with its pages dropped");
    // The name now holds other bytes: what is read is the file opened.
    await Deno.rename(file, `${file}.old`);
    await Deno.writeFile(file, new Uint8Array(bytes.length).fill(1));
    const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
    const open = fds();
    const buffer = new Uint8Array(65536);
    const read = await native().readWhole(file, buffer, bytes.length, {
      local: true,
      fd: opened.fd,
    });
    assert.deepEqual([read?.bytes, read?.size], [bytes.length, bytes.length]);
    assert(sameBytes(buffer.subarray(0, bytes.length), bytes), "not the bytes of the file opened");
    assert.equal(fds(), open, "readWhole closed the file it was given, or opened another");
    native().close(opened.fd);
    assert.equal(fds(), open - 1, "close did not close it");
    assert.equal(native().openAhead(`${dir.path}/missing`, false), null);
  },
});

/** Whether `program` is in one of the PATH's folders. */
function onPath(program: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((folder) => {
    try {
      return Deno.statSync(`${folder}/${program}`).isFile;
    } catch {
      return false;
    }
  });
}

/** The access time of `file`, by `stat` (seconds since the epoch, with nanoseconds). */
function accessTime(file: string): Promise<string> {
  return outside("stat", "-c", "%.9X", file);
}

Deno.test({
  name: "readWhole with noatime leaves the file's access time alone, which a plain read moves",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const files = [`${dir.path}/plain`, `${dir.path}/noatime`];
    const bytes = randomBytes(5000);
    for (const file of files) {
      await Deno.writeFile(file, bytes);
      // Accessed before it was last changed: under relatime (the usual default) too, the
      // next read moves the access time.
      await Deno.utime(file, new Date("2001-02-03T04:05:06Z"), new Date("2024-03-04T05:06:07Z"));
    }
    const before = await accessTime(files[0]);
    const buffer = new Uint8Array(65536);
    for (const local of [true, false]) {
      const plain = await native().readWhole(files[0], buffer, bytes.length, { local });
      const read = await native().readWhole(files[1], buffer, bytes.length, {
        local,
        noatime: true,
      });
      assert.deepEqual([plain?.bytes, read?.bytes], [bytes.length, bytes.length]);
    }
    assert(sameBytes(buffer.subarray(0, bytes.length), bytes), "the bytes read are not the file's");
    // Control: the file system keeps access times (not mounted noatime).
    assert.notEqual(await accessTime(files[0]), before, "control: a plain read moves the atime");
    assert.equal(await accessTime(files[1]), before);
  },
});

Deno.test({
  name: "readWhole with noatime reads a file it does not own (and may not keep the atime of)",
  // Root may leave any file's access time alone: here root without that right (CAP_FOWNER),
  // in a process of its own, reads a file that nobody's user owns.
  ignore: ignore || Deno.uid() !== 0 || !onPath("setpriv"),
  fn: async () => {
    await using dir = await testFolder();
    const file = `${dir.path}/theirs`;
    const bytes = randomBytes(3000);
    await Deno.writeFile(file, bytes, { mode: 0o644 });
    await Deno.chown(file, 65534, 65534);
    const script = `
      import { openLibc } from ${JSON.stringify(new URL("../src/libc.ts", import.meta.url).href)};
      const file = ${JSON.stringify(file)};
      const buffer = new Uint8Array(65536);
      const reads = [];
      for (const local of [true, false]) {
        const read = await openLibc().readWhole(file, buffer, 3000, { local, noatime: true });
        reads.push(read?.bytes ?? null);
      }
      const refused = Deno.dlopen("libc.so.6", {
        open: { parameters: ["buffer", "i32"], result: "i32" },
      }).symbols.open(new TextEncoder().encode(file + "\\0"), 0o1000000) < 0;
      console.log(JSON.stringify({ reads, refused }));
    `;
    const { code, stdout, stderr } = await sh("setpriv", [
      "--bounding-set=-fowner",
      "--",
      Deno.execPath(),
      "eval",
      script,
    ]);
    assert.equal(code, 0, stderr);
    const { reads, refused } = JSON.parse(stdout);
    assert(refused, "control: an open with O_NOATIME was not refused");
    assert.deepEqual(reads, [3000, 3000]);
  },
});

Deno.test({
  name: "readWhole reads on past a scanned size that is too small, up to the end or the buffer",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const file = `${dir.path}/grew`;
    await Deno.writeFile(file, randomBytes(5000));
    const wide = await native().readWhole(file, new Uint8Array(65536), 3000);
    assert.deepEqual([wide?.bytes, wide?.size], [5000, 5000]);
    const narrow = await native().readWhole(file, new Uint8Array(4096), 3000);
    assert.deepEqual([narrow?.bytes, narrow?.size], [4096, 5000]);
    await Deno.writeFile(`${dir.path}/empty`, new Uint8Array(0));
    const empty = await native().readWhole(`${dir.path}/empty`, new Uint8Array(16), 0);
    assert.deepEqual([empty?.bytes, empty?.size], [0, 0]);
  },
});

Deno.test({
  name: "readWhole gives null (for Deno to tell why) for a missing file and a folder",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    for (const local of [false, true]) {
      const missing = await native().readWhole(`${dir.path}/missing`, new Uint8Array(16), 5, {
        local,
      });
      assert.deepEqual(missing, null);
      assert.deepEqual(await native().readWhole(dir.path, new Uint8Array(16), 5, { local }), null);
    }
  },
});

Deno.test({
  name: "writeWhole writes the bytes, sets the mode exactly whatever the umask, and the mtime",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const file = `${dir.path}/out`;
    // A longer file in the way is emptied first.
    await Deno.writeFile(file, randomBytes(200_000));
    const bytes = randomBytes(70_001);
    const mtimeMs = Date.parse("1960-03-04T05:06:07.123Z");
    const umask = Deno.umask(0o077);
    let written: boolean;
    try {
      written = native().writeWhole(file, bytes, 0o755, mtimeMs);
    } finally {
      Deno.umask(umask);
    }
    assert(written);
    assert.deepEqual(
      await outside("stat", "-c", "%a %s %y", file),
      "755 70001 1960-03-04 05:06:07.123000000 +0000",
    );
    const { mtime, atime } = await Deno.stat(file);
    assert.deepEqual(mtime!.getTime(), mtimeMs);
    assert(Math.abs(atime!.getTime() - Date.now()) < 60_000, `atime ${atime?.toISOString()}`);
    // cmp judges the bytes against the same bytes written by Deno.
    await Deno.writeFile(`${file}.deno`, bytes);
    assert.equal((await sh("cmp", [file, `${file}.deno`])).code, 0);
  },
});

Deno.test({
  name: "writeWhole writes an empty file, and without a mode leaves the umask's",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const file = `${dir.path}/empty`;
    const umask = Deno.umask(0o022);
    try {
      assert(native().writeWhole(file, new Uint8Array(0), undefined, 0));
    } finally {
      Deno.umask(umask);
    }
    assert.deepEqual(await outside("stat", "-c", "%a %s %Y", file), "644 0 0");
  },
});

Deno.test({
  name: "writeWhole gives false in a missing folder, and follows no symlink put in its way",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    assert(!native().writeWhole(`${dir.path}/nowhere/out`, new Uint8Array(8), 0o644, 0));
    const victim = `${dir.path}/victim`;
    await Deno.writeTextFile(victim, "keep me");
    await Deno.symlink(victim, `${dir.path}/link`);
    assert(!native().writeWhole(`${dir.path}/link`, new Uint8Array(8), 0o644, 0));
    assert.deepEqual(await Deno.readTextFile(victim), "keep me");
  },
});

Deno.test({
  name: "trimHeap gives back what the allocator kept of freed buffers, by the process's own RSS",
  ignore,
  fn: async () => {
    // In a process of its own, with V8's gc() at hand: 2,000 buffers of 60,000 bytes freed
    // between 2,000 kept, so that the allocator cannot give them back by shrinking its heap.
    const script = `
      import { openLibc } from ${JSON.stringify(new URL("../src/libc.ts", import.meta.url).href)};
      const libc = openLibc();
      const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))[1]);
      const kept = [];
      let freed = [];
      for (let i = 0; i < 4000; i++) (i % 2 ? kept : freed).push(new Uint8Array(60000).fill(1));
      freed = [];
      gc();
      // V8 frees the buffers' memory on a thread of its own, after the GC.
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc();
      const before = rss();
      libc.trimHeap();
      console.log(JSON.stringify({ before, after: rss(), kept: kept.length }));
    `;
    const { code, stdout, stderr } = await sh(Deno.execPath(), [
      "eval",
      "--v8-flags=--expose-gc",
      script,
    ]);
    assert.equal(code, 0, stderr);
    const { before, after } = JSON.parse(stdout);
    const freedKiB = 2000 * 60000 / 1024;
    assert(before - after > freedKiB / 2, `RSS ${before} KiB before the trim, ${after} after`);
  },
});

Deno.test({
  name: "writeWhole and openAhead name each file exactly, long or short, in any script, in turn",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    // A long name (past the first buffer for names), then shorter ones, then one beyond ASCII.
    const folder = `${dir.path}/${"f".repeat(200)}/${"g".repeat(200)}/${"h".repeat(200)}`;
    await Deno.mkdir(`${folder}/${"i".repeat(200)}/${"j".repeat(200)}`, { recursive: true });
    const names = [
      `${folder}/${"i".repeat(200)}/${"j".repeat(200)}/${"k".repeat(200)}`,
      `${dir.path}/a`,
      `${dir.path}/\u5199\u771f-\u{1F4F7}.jpg`,
      `${dir.path}/b`,
    ];
    const libc = native();
    for (const [i, name] of names.entries()) {
      assert(libc.writeWhole(name, new TextEncoder().encode(`file ${i}`), 0o644, 0), name);
    }
    for (const [i, name] of names.entries()) {
      assert.equal(await Deno.readTextFile(name), `file ${i}`);
      const opened = libc.openAhead(name, false);
      assert(opened, name);
      const into = new Uint8Array(64);
      const read = await libc.readWhole(name, into, 64, { fd: opened.fd });
      libc.close(opened.fd);
      assert.equal(new TextDecoder().decode(into.subarray(0, read!.bytes)), `file ${i}`);
    }
    assert.deepEqual((await sh("ls", [dir.path])).stdout.split("\n").filter(Boolean).sort(), [
      "a",
      "b",
      "f".repeat(200),
      "\u5199\u771f-\u{1F4F7}.jpg",
    ]);
  },
});

Deno.test({
  name: "lstat tells a file's size, mtime, mode and blocks as Deno.lstat does, a symlink's own",
  ignore,
  fn: async () => {
    await using dir = await testFolder();
    const libc = native();
    const files: string[] = [];
    for (const [k, when] of MTIMES.entries()) {
      const file = `${dir.path}/f${k}`;
      await Deno.writeFile(file, randomBytes(1000 * k + 1));
      await sh("touch", ["-m", "-d", when, file]);
      await Deno.chmod(file, [0o600, 0o755, 0o4711][k]);
      files.push(file);
    }
    // A sparse file: its blocks hold less than its size.
    await sh("truncate", ["-s", "10M", `${dir.path}/sparse`]);
    await Deno.symlink(files[0], `${dir.path}/link`);
    for (const file of [...files, `${dir.path}/sparse`, `${dir.path}/link`, dir.path]) {
      const info = Deno.lstatSync(file);
      assert.deepEqual(libc.lstat(file), {
        size: info.size,
        mtimeMs: info.mtime!.getTime(),
        mode: info.mode,
        blocks: info.blocks,
      }, file);
    }
    assert.equal(libc.lstat(`${dir.path}/missing`), null);
  },
});

/**
 * The scan: a local source is looked at in synchronous calls, any other with many calls in
 * flight; both give the same tree. And which file systems count as local.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { fileAt, openFileTable, shareFileTable } from "../../src/coordinator/file_table.ts";
import { scanSource, type SourceTree } from "../../src/coordinator/scan.ts";
import { onLocalDisk } from "../../src/local_disk.ts";
import { makeCardTree, sh, testFolder } from "../helpers.ts";

/** The tree as plain data: every file by its index, and the rest as it is. */
function plain(tree: SourceTree) {
  const { files, ...rest } = tree;
  const table = openFileTable(shareFileTable(files));
  return { ...rest, files: files.paths.map((_, index) => fileAt(table, index)) };
}

Deno.test("a local scan and a scan with many calls in flight find the same tree", async () => {
  await using folder = await testFolder();
  const root = path.join(folder.path, "card");
  const count = await makeCardTree(root);
  await Deno.symlink("DCIM", path.join(root, "link"));
  await Deno.mkdir(path.join(root, ".fanout"));
  await Deno.writeTextFile(path.join(root, ".fanout", "manifest.ndjson"), "{}\n");
  // Enough files in one folder that the scan's 64 calls in flight are all used.
  await Deno.mkdir(path.join(root, "many"));
  for (let k = 0; k < 150; k++) {
    await Deno.writeTextFile(path.join(root, "many", `f${k}.txt`), "x".repeat(k));
  }
  const fifo = await sh("mkfifo", [path.join(root, "pipe")]);
  assert.equal(fifo.code, 0, fifo.stderr);

  const local = await scanSource(root, { local: true, links: true });
  const remote = await scanSource(root, { local: false, links: true });
  assert.deepEqual(plain(local), plain(remote));
  assert.equal(local.files.paths.length, count + 150);
  assert.deepEqual(local.links, [{ path: "link", target: "DCIM" }]);
  assert.deepEqual(local.skipped, [{ path: "pipe", reason: "FIFO, never opened" }]);
  const scanned = plain(local).files.find((file) => file.path === "many/f149.txt");
  const info = await Deno.lstat(path.join(root, "many", "f149.txt"));
  assert.deepEqual(scanned, {
    path: "many/f149.txt",
    size: 149,
    mtimeMs: info.mtime!.getTime(),
    mode: info.mode,
  });
});

Deno.test({
  name: "memory (tmpfs) counts as a local file system, and /proc does not",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const shm = await sh("stat", ["--file-system", "--format=%T", "/dev/shm"]);
    if (shm.stdout.trim() === "tmpfs") assert.equal(await onLocalDisk("/dev/shm"), true);
    assert.equal(await onLocalDisk("/proc"), false);
    assert.equal(await onLocalDisk("/no/such/folder"), false);
  },
});

Deno.test("a local scan, in synchronous calls, still gives timers and signals their turns", async () => {
  await using folder = await testFolder();
  // Enough folders that the scan takes many times TURN_MS (5 ms) on any machine.
  await sh("sh", ["-c", `cd '${folder.path}' && mkdir -p $(seq -f 'd%04g' 0 2999)`]);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const start = performance.now();
  try {
    const tree = await scanSource(folder.path, { local: true });
    assert.equal(tree.folders.length, 3000);
  } finally {
    clearInterval(timer);
  }
  const took = performance.now() - start;
  // Without a turn, not one tick would come before the scan ends (0 in 38 ms, measured).
  if (took > 20) assert.ok(ticks >= 1, `${ticks} ticks in ${took.toFixed(0)} ms`);
});

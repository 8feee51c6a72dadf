/**
 * The SourceReader in its own Web Worker, on real files: what the destination asks for is
 * left in the shared chunks, checked, with the digest sha256sum gives; what it cannot read
 * as scanned (changed, gone), what is too big or empty, and what was not asked for, is not.
 * A copy asked to be read back comes back with the digest sha256sum gives of the copy, the
 * bytes it holds (a short one too: the Verify compares them) and its pages dropped; a missing
 * one does not come back.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { fileTable, shareFileTable } from "../../src/coordinator/file_table.ts";
import type { SourceFile } from "../../src/coordinator/messages.ts";
import { SharedChunks, sharedChunksMemory } from "../../src/copy/shared_chunks.ts";
import {
  ReadRequests,
  readRequestsMemory,
  type SourceReaderJob,
} from "../../src/copy/source_reader.ts";
import { libcAtHand } from "../../src/libc.ts";
import { sh, testFolder, writeRandomFile } from "../helpers.ts";

const KiB = 1024;

/** A job for the reader: SHA-256, shared chunks for it (1) and one destination (0). */
function readerJob(source: string, destination: string, files: SourceFile[]): SourceReaderJob {
  return {
    source,
    destination,
    files: shareFileTable(fileTable(files)),
    chunks: { memory: sharedChunksMemory(2, files.length), destination: 1 },
    requests: readRequestsMemory(),
    hash: "sha256",
  };
}

/** Runs the reader's worker on `job` while `ask` makes the requests, until it is done. */
async function withReader(job: SourceReaderJob, ask: (requests: ReadRequests) => void) {
  const worker = new Worker(
    new URL("../../src/copy/source_reader_worker.ts", import.meta.url),
    { type: "module" },
  );
  const done = new Promise((resolve) => worker.onmessage = resolve);
  worker.postMessage(job);
  const requests = new ReadRequests(job.requests);
  ask(requests);
  requests.end();
  await done;
  worker.terminate();
  return requests;
}

Deno.test({
  name: "the source's reader leaves what is asked, read as scanned, with sha256sum's digest",
  ignore: libcAtHand() === null,
  fn: async () => {
    await using folder = await testFolder();
    const sizes: Record<string, number> = {
      "a.jpg": 5 * KiB,
      "b/c.jpg": 60 * KiB,
      "empty.txt": 0,
      "big.mov": 100 * KiB,
      "changed.jpg": 3 * KiB,
      "gone.jpg": 2 * KiB,
      "unasked.jpg": 4 * KiB,
    };
    const files: SourceFile[] = [];
    for (const [name, size] of Object.entries(sizes)) {
      await writeRandomFile(path.join(folder.path, name), size);
      const info = await Deno.lstat(path.join(folder.path, name));
      files.push({ path: name, size, mtimeMs: info.mtime!.getTime(), mode: info.mode });
    }
    // Changed since the scan (its mtime), and gone since the scan.
    await Deno.utime(path.join(folder.path, "changed.jpg"), new Date(), new Date(2001, 0, 1));
    await Deno.remove(path.join(folder.path, "gone.jpg"));

    const job = readerJob(folder.path, path.join(folder.path, "unused"), files);
    await withReader(job, (requests) =>
      files.forEach((file, index) => {
        if (file.path !== "unasked.jpg") requests.ask(index);
      }));

    const chunks = new SharedChunks(job.chunks.memory, 0);
    const found: Record<string, string> = {};
    for (const [index, file] of files.entries()) {
      const into = new Uint8Array(file.size);
      const got = await chunks.obtain(index, 0, into);
      if (got.taken === "none") {
        got.claim?.abandon();
        found[file.path] = "none";
        continue;
      }
      assert.equal(got.taken, "checked", file.path);
      const bytes = await Deno.readFile(path.join(folder.path, file.path));
      assert.deepEqual(into, bytes, `${file.path}: the bytes of the file`);
      const sum = await sh("sha256sum", [file.path], { cwd: folder.path });
      assert.equal(got.digest, sum.stdout.split(" ")[0], `${file.path}: sha256sum's digest`);
      found[file.path] = got.taken;
    }
    assert.deepEqual(found, {
      "a.jpg": "checked",
      "b/c.jpg": "checked",
      "empty.txt": "none",
      "big.mov": "none",
      "changed.jpg": "none",
      "gone.jpg": "none",
      "unasked.jpg": "none",
    });
  },
});

Deno.test({
  name: "the source's reader reads copies back with sha256sum's digest, their pages dropped",
  ignore: libcAtHand() === null,
  fn: async () => {
    await using folder = await testFolder();
    const destination = path.join(folder.path, "ssd");
    const sizes: Record<string, number> = {
      "a.jpg": 5 * KiB,
      "b/c.jpg": 60 * KiB,
      "missing.jpg": 2 * KiB,
      "short.jpg": 3 * KiB,
    };
    const files: SourceFile[] = [];
    for (const [name, size] of Object.entries(sizes)) {
      files.push({ path: name, size, mtimeMs: 0, mode: 0o644 });
      if (name === "missing.jpg") continue;
      await writeRandomFile(path.join(destination, name), name === "short.jpg" ? size - 1 : size);
    }
    const job = readerJob(path.join(folder.path, "card"), destination, files);
    const requests = await withReader(
      job,
      (requests) => files.forEach((_, index) => requests.askBack(index)),
    );

    const found: Record<string, string> = {};
    for (const [index, file] of files.entries()) {
      const back = await requests.readBack(index);
      if (!back) {
        found[file.path] = "none";
        continue;
      }
      const sum = await sh("sha256sum", [file.path], { cwd: destination });
      assert.equal(back.digest, sum.stdout.split(" ")[0], `${file.path}: sha256sum's digest`);
      assert.equal(back.dropped, true, `${file.path}: its pages were dropped`);
      found[file.path] = `${back.bytes} bytes`;
    }
    assert.deepEqual(found, {
      "a.jpg": `${5 * KiB} bytes`,
      "b/c.jpg": `${60 * KiB} bytes`,
      "missing.jpg": "none",
      "short.jpg": `${3 * KiB - 1} bytes`,
    });
    assert.equal(await requests.readBack(0), null, "a read-back is taken once");
  },
});

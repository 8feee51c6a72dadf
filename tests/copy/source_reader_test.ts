/**
 * The SourceReader in its own Web Worker, on real files: what the destination asks for is
 * left in the shared chunks, checked, with the digest sha256sum gives; what it cannot read
 * as scanned (changed, gone), what is too big or empty, and what was not asked for, is not.
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

    const memory = sharedChunksMemory(2, files.length);
    const ring = readRequestsMemory();
    const worker = new Worker(
      new URL("../../src/copy/source_reader_worker.ts", import.meta.url),
      { type: "module" },
    );
    const done = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage(
      {
        source: folder.path,
        files: shareFileTable(fileTable(files)),
        chunks: { memory, destination: 1 },
        requests: ring,
        hash: "sha256",
      } satisfies SourceReaderJob,
    );
    const requests = new ReadRequests(ring);
    files.forEach((file, index) => {
      if (file.path !== "unasked.jpg") requests.ask(index);
    });
    requests.end();
    await done;
    worker.terminate();

    const chunks = new SharedChunks(memory, 0);
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

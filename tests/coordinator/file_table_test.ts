/** FileTable: files in columns come back as the same objects, through a structured clone too. */
import { assert, fc } from "../deps.ts";
import {
  fileAt,
  fileTable,
  openFileTable,
  shareFileTable,
} from "../../src/coordinator/file_table.ts";
import type { SourceFile } from "../../src/coordinator/messages.ts";

const file: fc.Arbitrary<SourceFile> = fc.record({
  path: fc.string({ minLength: 1 }),
  size: fc.integer({ min: 0, max: 2 ** 50 }),
  mtimeMs: fc.integer({ min: 0, max: 2 ** 45 }),
  mode: fc.option(fc.integer({ min: 0, max: 0o177777 })),
  sparse: fc.option(fc.constant(true), { nil: undefined }),
}).map(({ sparse, ...rest }) => (sparse ? { ...rest, sparse } : rest));

Deno.test("every file comes back from its index as scanned, after a structured clone too", () => {
  fc.assert(
    fc.property(fc.array(file, { maxLength: 30 }), (files) => {
      const table = openFileTable(shareFileTable(structuredClone(fileTable(files))));
      assert.deepEqual(files.map((_, index) => fileAt(table, index)), files);
    }),
  );
});

// Names in any script (1 to 4 UTF-8 bytes a character), and long ones, which grow the buffer.
const anyName = fc.string({ unit: "grapheme", minLength: 1, maxLength: 400 });

Deno.test("a shared table, posted and opened, gives back every file as scanned", () => {
  fc.assert(
    fc.property(
      fc.array(file.chain((f) => anyName.map((path) => ({ ...f, path }))), { maxLength: 30 }),
      (files) => {
        const posted = structuredClone(shareFileTable(fileTable(files)));
        const table = openFileTable(posted);
        assert.equal(table.count, files.length);
        assert.deepEqual(files.map((_, index) => fileAt(table, index)), files);
      },
    ),
  );
});

Deno.test("the ranks of an opened table order its files as their paths compare", () => {
  fc.assert(
    fc.property(fc.uniqueArray(anyName, { maxLength: 40 }), (paths) => {
      const files = paths.map((path) => ({ path, size: 0, mtimeMs: 0, mode: null }));
      const table = openFileTable(structuredClone(shareFileTable(fileTable(files))));
      const byRank = paths.map((_, index) => index).sort((a, b) => table.ranks[a] - table.ranks[b]);
      assert.deepEqual(byRank.map((index) => paths[index]), [...paths].sort());
      assert.deepEqual([...table.ranks].sort((a, b) => a - b), paths.map((_, rank) => rank));
    }),
  );
});

Deno.test("posting a shared table copies none of its columns: they are one memory", () => {
  const files = [
    { path: "DCIM/100CANON/IMG_0001.CR3", size: 25_000_000, mtimeMs: 1, mode: 0o644 },
    { path: "写真/東京 夜.jpg", size: 3, mtimeMs: 2, mode: null },
  ];
  const shared = shareFileTable(fileTable(files));
  const posted = structuredClone(shared);
  for (
    const column of [
      posted.sizes,
      posted.mtimes,
      posted.modes,
      posted.sparse,
      posted.pathBytes,
      posted.ranks,
    ]
  ) {
    assert.ok(column.buffer instanceof SharedArrayBuffer);
  }
  shared.sizes[1] = 4;
  assert.equal(posted.sizes[1], 4, "a change on one side is seen on the other");
  const opened = openFileTable(posted);
  assert.deepEqual(files.map((_, index) => opened.path(index)), files.map((f) => f.path));
});

Deno.test("paths asked for in any order, again and again, are each file's own, as are their bytes", () => {
  // More files than the paths kept decoded, so that files share a place there.
  const files = Array.from({ length: 700 }, (_, i) => ({
    path: i % 3 === 0 ? `d${i % 7}/\u5199\u771f-${i}.jpg` : `d${i % 7}/f${i}.bin`,
    size: i,
    mtimeMs: 0,
    mode: 0o644,
  }));
  const table = openFileTable(structuredClone(shareFileTable(fileTable(files))));
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: files.length - 1 }), { maxLength: 200 }),
      (asks) => {
        for (const index of [...asks, ...asks.map((i) => (i + 256) % files.length), ...asks]) {
          assert.equal(table.path(index), files[index].path);
          assert.equal(new TextDecoder().decode(table.pathBytes(index).slice()), files[index].path);
        }
      },
    ),
  );
});

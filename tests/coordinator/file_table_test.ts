/** FileTable: files in columns come back as the same objects, through a structured clone too. */
import { assert, fc } from "../deps.ts";
import { fileAt, fileTable } from "../../src/coordinator/file_table.ts";
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
      const table = structuredClone(fileTable(files));
      assert.deepEqual(files.map((_, index) => fileAt(table, index)), files);
    }),
  );
});

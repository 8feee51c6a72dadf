/**
 * File results as columns (FileResultsBuilder) read back as the results that were added, in
 * their order, through the structured clone that carries them from a worker.
 */
import { assert, fc } from "../deps.ts";
import type { FileResult } from "../../src/coordinator/messages.ts";
import {
  FILE_STATUSES,
  type FileDone,
  FileResultsBuilder,
  forEachFileResult,
} from "../../src/queue/file_results.ts";
import { DIGEST_LENGTH, HASH_ALGORITHMS } from "../../src/verify/hashers.ts";

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });

const content = fc.constantFrom(...HASH_ALGORITHMS).chain((hash) =>
  hex(DIGEST_LENGTH[hash]).map((digest) => ({ hash, digest }))
);

const positive = fc.integer({ min: 1, max: 2 ** 53 - 1 });
const text = fc.string({ unit: "binary", minLength: 1 });

/** A result as a worker makes it: a field it has no value for is absent. */
const result: fc.Arbitrary<FileResult> = fc.record({
  index: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  status: fc.constantFrom(...FILE_STATUSES),
  content,
  attempts: fc.integer({ min: 0, max: 255 }),
  resumed: positive,
  shared: positive,
  link: text,
  error: text,
}, { requiredKeys: ["index", "status", "attempts"], noNullPrototype: true });

/** What the coordinator reads of `results` once they came through a structured clone. */
function readBack(builder: FileResultsBuilder): FileResult[] {
  const read: FileResult[] = [];
  forEachFileResult(structuredClone(builder.take()), (r) => read.push(r));
  return read;
}

Deno.test("file results as columns read back as the results added, in order", () => {
  fc.assert(
    fc.property(fc.array(result, { maxLength: 40 }), (results) => {
      const builder = new FileResultsBuilder(40);
      for (const r of results) builder.add(r);
      assert.equal(builder.count, results.length);
      assert.deepEqual(readBack(builder), results);
      assert.equal(builder.count, 0, "take starts afresh");
    }),
  );
});

Deno.test("a batch taken is not changed by the results added after it", () => {
  const builder = new FileResultsBuilder(2);
  const first: FileResult = { index: 1, status: "failed", attempts: 3, error: "EIO" };
  builder.add(first);
  const taken = builder.take();
  builder.add({ index: 2, status: "copied", attempts: 1, shared: 10 });
  assert.ok(!builder.full);
  builder.add({ index: 3, status: "skipped", attempts: 0 });
  assert.ok(builder.full);
  assert.throws(() => builder.add(first), RangeError, "no room");
  const read: FileResult[] = [];
  forEachFileResult(taken, (r) => read.push(r));
  assert.deepEqual(read, [first]);
  assert.deepEqual(readBack(builder).map((r) => r.index), [2, 3]);
});

Deno.test("a file done, its digest as bytes, reads back as the result add takes for it", () => {
  const done = fc.record({
    index: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    status: fc.constantFrom("copied" as const, "verified" as const),
    content,
    attempts: fc.integer({ min: 0, max: 300 }),
    shared: fc.oneof(fc.constant(0), positive),
    resumed: fc.oneof(fc.constant(0), positive),
  }, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(fc.tuple(done, fc.option(result)), { maxLength: 30 }), (rows) => {
      const builder = new FileResultsBuilder(60);
      const expected: FileResult[] = [];
      for (const [{ content, shared, resumed, ...fields }, other] of rows) {
        const digestBytes = new Uint8Array(content.digest.length / 2)
          .map((_, i) => parseInt(content.digest.slice(2 * i, 2 * i + 2), 16));
        const row: FileDone = { ...fields, hash: content.hash, digestBytes, shared, resumed };
        builder.addDone(row);
        expected.push({
          ...fields,
          attempts: Math.min(255, fields.attempts),
          content,
          ...(resumed ? { resumed } : {}),
          ...(shared ? { shared } : {}),
        });
        // Mixed with results added as objects, which keep their place.
        if (other) {
          builder.add(other);
          expected.push(other);
        }
      }
      assert.deepEqual(readBack(builder), expected);
    }),
  );
});

/** SourceConsistency: destinations that read different bytes for one file flag it once. */
import { assert } from "../deps.ts";
import { SourceConsistency } from "../../src/coordinator/source_consistency.ts";
import type { ContentHash } from "../../src/verify/hashers.ts";

const A: ContentHash = { hash: "sha256", digest: "a".repeat(64) };
const B: ContentHash = { hash: "sha256", digest: "b".repeat(64) };
const C: ContentHash = { hash: "sha256", digest: "c".repeat(64) };

Deno.test("destinations that read the same hash raise nothing", () => {
  const check = new SourceConsistency(5);
  for (let destination = 0; destination < 3; destination++) {
    assert.equal(check.record(0, A), false);
  }
  assert.equal(check.isInconsistent(0), false);
  assert.equal(check.conflicts.size, 0);
});

Deno.test("the first disagreement returns true, and the file stays inconsistent", () => {
  const check = new SourceConsistency(5);
  assert.equal(check.record(1, A), false);
  assert.equal(check.record(1, B), true);
  assert.equal(check.isInconsistent(1), true);
  assert.deepEqual([...check.conflicts], [1]);
});

Deno.test("later reads of a conflicting file return false, whatever hash they bring", () => {
  const check = new SourceConsistency(5);
  check.record(1, A);
  check.record(1, B);
  assert.equal(check.record(1, C), false, "a third hash is not a new conflict");
  assert.equal(check.record(1, A), false, "agreeing with the first does not clear it");
  assert.equal(check.isInconsistent(1), true);
  assert.equal(check.conflicts.size, 1);
});

Deno.test("files are independent: the same hash for two of them is no conflict", () => {
  const check = new SourceConsistency(5);
  assert.equal(check.record(2, A), false);
  assert.equal(check.record(3, A), false);
  assert.equal(check.record(3, B), true);
  assert.equal(check.isInconsistent(2), false);
  assert.equal(check.isInconsistent(3), true);
  assert.equal(check.isInconsistent(4), false);
  assert.deepEqual([...check.conflicts], [3]);
});

Deno.test("digests of two algorithms never compare: a record of an earlier run is no conflict", () => {
  const check = new SourceConsistency(5);
  const xxh = (digest: string): ContentHash => ({ hash: "xxh128", digest });
  assert.equal(check.record(2, A), false);
  assert.equal(check.record(2, xxh("1".repeat(32))), false);
  assert.equal(check.record(2, xxh("1".repeat(32))), false);
  assert.equal(check.isInconsistent(2), false);
  assert.equal(check.record(2, xxh("2".repeat(32))), true);
  assert.equal(check.isInconsistent(2), true);
});

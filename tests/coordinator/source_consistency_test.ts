/** SourceConsistency: destinations that read different bytes for one file flag it once. */
import { assert } from "../deps.ts";
import { SourceConsistency } from "../../src/coordinator/source_consistency.ts";
import type { ContentHash } from "../../src/verify/hashers.ts";

const A: ContentHash = { hash: "sha256", digest: "a".repeat(64) };
const B: ContentHash = { hash: "sha256", digest: "b".repeat(64) };
const C: ContentHash = { hash: "sha256", digest: "c".repeat(64) };

Deno.test("destinations that read the same hash raise nothing", () => {
  const check = new SourceConsistency();
  for (let destination = 0; destination < 3; destination++) {
    assert.equal(check.record("DCIM/IMG_0001.JPG", A), false);
  }
  assert.equal(check.isInconsistent("DCIM/IMG_0001.JPG"), false);
  assert.equal(check.conflicts.size, 0);
});

Deno.test("the first disagreement returns true, and the path stays inconsistent", () => {
  const check = new SourceConsistency();
  assert.equal(check.record("clip.mp4", A), false);
  assert.equal(check.record("clip.mp4", B), true);
  assert.equal(check.isInconsistent("clip.mp4"), true);
  assert.deepEqual([...check.conflicts], ["clip.mp4"]);
});

Deno.test("later reads of a conflicting path return false, whatever hash they bring", () => {
  const check = new SourceConsistency();
  check.record("clip.mp4", A);
  check.record("clip.mp4", B);
  assert.equal(check.record("clip.mp4", C), false, "a third hash is not a new conflict");
  assert.equal(check.record("clip.mp4", A), false, "agreeing with the first does not clear it");
  assert.equal(check.isInconsistent("clip.mp4"), true);
  assert.equal(check.conflicts.size, 1);
});

Deno.test("paths are independent: the same hash for two files is no conflict", () => {
  const check = new SourceConsistency();
  assert.equal(check.record("a.jpg", A), false);
  assert.equal(check.record("b.jpg", A), false);
  assert.equal(check.record("b.jpg", B), true);
  assert.equal(check.isInconsistent("a.jpg"), false);
  assert.equal(check.isInconsistent("b.jpg"), true);
  assert.equal(check.isInconsistent("never-seen.jpg"), false);
  assert.deepEqual([...check.conflicts], ["b.jpg"]);
});

Deno.test("digests of two algorithms never compare: a record of an earlier run is no conflict", () => {
  const check = new SourceConsistency();
  const xxh = (digest: string): ContentHash => ({ hash: "xxh128", digest });
  assert.equal(check.record("a.jpg", A), false);
  assert.equal(check.record("a.jpg", xxh("1".repeat(32))), false);
  assert.equal(check.record("a.jpg", xxh("1".repeat(32))), false);
  assert.equal(check.isInconsistent("a.jpg"), false);
  assert.equal(check.record("a.jpg", xxh("2".repeat(32))), true);
  assert.equal(check.isInconsistent("a.jpg"), true);
});

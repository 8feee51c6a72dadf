/** SourceConsistency: destinations that read different bytes for one file flag it once. */
import { assert } from "../deps.ts";
import { SourceConsistency } from "../../src/coordinator/source_consistency.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

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

/** DigestColumn: digests kept as bytes by index come back as the same lowercase hex. */
import { assert, fc } from "../deps.ts";
import { DigestColumn } from "../../src/verify/digest_column.ts";
import { DIGEST_LENGTH, HASH_ALGORITHMS } from "../../src/verify/hashers.ts";

const content = fc.constantFrom(...HASH_ALGORITHMS).chain((hash) =>
  fc.stringMatching(new RegExp(`^[0-9a-f]{${DIGEST_LENGTH[hash]}}$`)).map((digest) => ({
    hash,
    digest,
  }))
);

Deno.test("every digest set comes back as it was, by algorithm, next to its neighbours", () => {
  fc.assert(
    fc.property(fc.array(fc.option(content), { minLength: 1, maxLength: 20 }), (contents) => {
      const column = new DigestColumn(contents.length);
      contents.forEach((value, index) => value && column.set(index, value));
      contents.forEach((value, index) => {
        assert.deepEqual(column.get(index), value ?? undefined);
        assert.equal(column.has(index), value !== null);
        if (value) assert.equal(column.holds(index, value), true);
      });
    }),
  );
});

Deno.test("holds is false for another digest, another algorithm, or none", () => {
  const column = new DigestColumn(3);
  const sha = { hash: "sha256" as const, digest: "ab".repeat(32) };
  column.set(0, sha);
  assert.equal(column.holds(0, { ...sha, digest: "ab".repeat(31) + "ac" }), false);
  assert.equal(column.holds(0, { hash: "blake3", digest: sha.digest }), false);
  assert.equal(column.holds(1, sha), false);
  column.clear(0);
  assert.equal(column.get(0), undefined);
});

Deno.test("the algorithm of a digest is known without its digest", () => {
  const column = new DigestColumn(2);
  column.set(1, { hash: "xxh128", digest: "ab".repeat(16) });
  assert.equal(column.algorithm(0), undefined);
  assert.equal(column.algorithm(1), "xxh128");
});

Deno.test("a digest that is not lowercase hex is refused, and a shorter one is not held", () => {
  const column = new DigestColumn(1);
  for (const digest of ["AB".repeat(32), "zz".repeat(32), "\u00e9b".repeat(32)]) {
    assert.throws(() => column.set(0, { hash: "sha256", digest }), RangeError, digest);
  }
  assert.equal(column.has(0), false);
  column.set(0, { hash: "sha256", digest: "ab".repeat(32) });
  assert.equal(column.holds(0, { hash: "sha256", digest: "ab".repeat(31) }), false);
});

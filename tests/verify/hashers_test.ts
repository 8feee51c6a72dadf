/**
 * The hashers against known vectors, and against the real tools (`sha256sum`, `xxhsum -H2`,
 * `b3sum`) on files, fed in chunks through one reused hasher.
 */
import { assert } from "../deps.ts";
import { createHash, path } from "../../src/deps.ts";
import {
  createHasher,
  DIGEST_LENGTH,
  digestField,
  digestFile,
  digestText,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  HasherPool,
  sha256Hasher,
} from "../../src/verify/hashers.ts";
import { sh, testFolder, writeRandomFile } from "../helpers.ts";

/** Digests of "" and "abc", as sha256sum, `xxhsum -H2` and b3sum print them. */
const VECTORS: Record<HashAlgorithm, [string, string]> = {
  sha256: [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  ],
  xxh128: ["99aa06d3014798d86001c324468d497f", "06b05ab6733a618578af5f94892f3950"],
  blake3: [
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
  ],
};

/** The command that prints a file's digest first on its line. */
const JUDGES: Record<HashAlgorithm, [string, string[]]> = {
  sha256: ["sha256sum", []],
  xxh128: ["xxhsum", ["-H2"]],
  blake3: ["b3sum", []],
};

for (const hash of HASH_ALGORITHMS) {
  Deno.test(`${hash}: the known digests of "" and "abc", from one hasher reused`, async () => {
    const hasher = await createHasher(hash);
    const [empty, abc] = VECTORS[hash];
    assert.equal(hasher.digest(), empty);
    hasher.init();
    assert.equal(digestText(hasher, "abc"), abc);
    hasher.init();
    for (const c of "abc") hasher.update(new TextEncoder().encode(c));
    assert.equal(hasher.digest(), abc, "fed a byte at a time");
    assert.equal(abc.length, DIGEST_LENGTH[hash]);
  });

  Deno.test(`${hash}: digestFile in small chunks or read whole equals the real tool's digest`, async () => {
    await using folder = await testFolder();
    const pool = new HasherPool();
    const buffer = new Uint8Array(4096);
    for (const size of [0, 1, 4096, 3 * 4096 + 7, 1 << 20]) {
      const file = path.join(folder.path, `f${size}`);
      await writeRandomFile(file, size);
      const [program, args] = JUDGES[hash];
      const judge = await sh(program, [...args, file]);
      assert.equal(judge.code, 0, judge.stderr);
      // Local, with the size expected (read whole through libc when it fits the buffer), or
      // with a wrong one, as of a copy that grew (past the buffer, too) or shrank: the digest is
      // still the file's.
      const ways = [
        { local: false },
        { local: true },
        ...[size, Math.max(0, size - 1), size + 5, 5].map((expected) => ({
          local: true,
          size: expected,
        })),
      ];
      for (const way of ways) {
        const { digest, bytes } = await pool.lend(
          hash,
          (h) => digestFile(file, buffer, h, undefined, way),
        );
        assert.equal(bytes, size, JSON.stringify(way));
        assert.equal(
          digest,
          judge.stdout.split(" ")[0],
          `${program} on ${size} bytes, ${JSON.stringify(way)}`,
        );
      }
    }
  });
}

Deno.test("digestFile does not take a short read for the end: a FIFO fed in three parts", async () => {
  await using folder = await testFolder();
  const fifo = path.join(folder.path, "fifo");
  assert.equal((await sh("mkfifo", [fifo])).code, 0);
  // Each part comes on its own, so the reads after the first two come back short.
  const writer = new Deno.Command("sh", {
    args: ["-c", `{ printf abc; sleep 0.2; printf def; sleep 0.2; printf ghi; } > "${fifo}"`],
  }).spawn();
  const { digest, bytes } = await digestFile(fifo, new Uint8Array(4096), sha256Hasher());
  await writer.status;
  assert.equal(bytes, 9);
  assert.equal(digest, createHash("sha256").update("abcdefghi").digest("hex"));
});

Deno.test({
  name: "digestFile of a copy just written (local) leaves its access time as it was",
  // Leaving it so needs libc (Linux); elsewhere the read moves it as any read does.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using folder = await testFolder();
    const file = path.join(folder.path, "copy");
    const bytes = crypto.getRandomValues(new Uint8Array(3000));
    await Deno.writeFile(file, bytes);
    // Older than the mtime: under relatime too, a plain read would move it.
    const atime = new Date("2001-02-03T04:05:06Z");
    await Deno.utime(file, atime, new Date("2024-03-04T05:06:07Z"));
    const { digest } = await digestFile(file, new Uint8Array(65536), sha256Hasher(), undefined, {
      local: true,
      size: bytes.length,
    });
    assert.equal(digest, createHash("sha256").update(bytes).digest("hex"));
    assert.equal((await Deno.stat(file)).atime?.toISOString(), atime.toISOString());
    // Control: a plain read (cat) moves it on this file system.
    assert.equal((await sh("cat", [file])).code, 0);
    assert.notEqual((await Deno.stat(file)).atime?.toISOString(), atime.toISOString());
  },
});

Deno.test("HasherPool lends one hasher per concurrent use and reuses it afterwards", async () => {
  const pool = new HasherPool();
  const seen = new Set<unknown>();
  const use = (text: string) =>
    pool.lend("blake3", async (hasher) => {
      seen.add(hasher);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return digestText(hasher, text);
    });
  const [a, b] = await Promise.all([use("abc"), use("")]);
  assert.deepEqual([b, a], VECTORS.blake3, "two at once do not mix their input");
  assert.equal(seen.size, 2);
  assert.equal(await use("abc"), VECTORS.blake3[1], "a reused hasher starts over");
  assert.equal(seen.size, 2);
});

Deno.test("digestField names the digest by its algorithm, and is empty without one", () => {
  assert.deepEqual(digestField("xxh128", "ab"), { xxh128: "ab" });
  assert.deepEqual(digestField("sha256", undefined), {});
});

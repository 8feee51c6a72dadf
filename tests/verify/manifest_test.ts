/**
 * A destination's records: manifest.ndjson read back exactly as written, every untrustworthy
 * line refused with its number, and an unchanged rerun that rewrites nothing.
 */
import { assert, fc } from "../deps.ts";
import { createHash, path } from "../../src/deps.ts";
import {
  appendEntryLine,
  type EntryParts,
  formatEntry,
  formatManifest,
  type ManifestEntry,
  ManifestError,
  parseManifest,
  readManifest,
  type RecordEntry,
  writeRecords,
} from "../../src/verify/manifest.ts";
import { DIGEST_LENGTH, HASH_ALGORITHMS } from "../../src/verify/hashers.ts";
import { parseSums, SUMS_FORMATS } from "../../src/verify/sums.ts";
import { TextBuffer } from "../../src/text_buffer.ts";
import { sh, testFolder } from "../helpers.ts";

const HEADER = JSON.stringify({ format: "fanout-manifest", version: 1, hash: "sha256" });
const SHA = "0123456789abcdef".repeat(4);

function entry(rel: string, fields: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    path: rel,
    size: 1234,
    mtimeMs: 1_700_000_000_000,
    hash: "sha256",
    digest: SHA,
    verifiedAt: "2024-05-01T10:00:00.000Z",
    ...fields,
  };
}

/** An entry as its manifest line holds it, to be spoiled field by field. */
function fields(e: ManifestEntry): Record<string, unknown> {
  return JSON.parse(formatEntry(e));
}

/** A segment any platform accepts: no "/", "\", ":" or NUL, and not "." or "..". */
const segment = fc.string({ unit: "binary", minLength: 1, maxLength: 12 })
  .filter((s) => !/[/\\:\0]/.test(s) && s !== "." && s !== "..");

const entryArbitrary = fc.record({
  path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/")),
  size: fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 2 ** 53 - 1 })),
  // `+ 0` turns -0 into 0: JSON has no negative zero.
  mtimeMs: fc.double({ min: 0, max: 4e12, noNaN: true }).map((ms) => ms + 0),
  hash: fc.constantFrom(...HASH_ALGORITHMS),
  digest: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
  verifiedAt: fc.option(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), {
    nil: null,
  }),
}, { noNullPrototype: true }).map((e) => ({
  ...e,
  digest: e.digest.slice(0, DIGEST_LENGTH[e.hash]),
}));

Deno.test("formatManifest then parseManifest gives back every entry, sorted by path", () => {
  fc.assert(
    fc.property(fc.uniqueArray(entryArbitrary, { selector: (e) => e.path }), (entries) => {
      const parsed = parseManifest(formatManifest(entries, "xxh128"), "manifest.ndjson");
      const sorted = [...entries].sort((a, b) => a.path < b.path ? -1 : 1);
      assert.deepEqual([...parsed.keys()], sorted.map((e) => e.path));
      assert.deepEqual([...parsed.values()], sorted);
    }),
  );
});

Deno.test("formatEntry writes the bytes JSON.stringify writes of the entry, field for field", () => {
  const withLink = fc.record({
    link: fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
  });
  fc.assert(
    fc.property(entryArbitrary, withLink, (e, { link }) => {
      const { path: rel, size, mtimeMs, hash, digest, verifiedAt } = e;
      const object = { path: rel, size, mtimeMs, [hash]: digest, verifiedAt, link };
      assert.equal(formatEntry({ ...e, link }), JSON.stringify(object));
    }),
  );
});

Deno.test("appendEntryLine writes, from a path's UTF-8 and a digest's bytes, formatEntry's line", () => {
  const encoder = new TextEncoder();
  // Any text, quotes, backslashes and control characters too (which JSON escapes).
  const rel = fc.string({
    unit: fc.oneof(
      fc.constantFrom('"', "\\", "\n", "\u0001"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 30,
  });
  const mtimeMs = fc.double({ min: -4e12, max: 4e12, noNaN: true, noDefaultInfinity: true });
  const buffer = new TextBuffer(16);
  fc.assert(
    fc.property(entryArbitrary, fc.option(rel, { nil: undefined }), mtimeMs, (e, name, ms) => {
      // The path as a worker has it: UTF-8 in shared memory, as the file table keeps it.
      const utf8 = encoder.encode(name ?? e.path);
      const pathBytes = new Uint8Array(new SharedArrayBuffer(utf8.length + 3)).subarray(2, -1);
      pathBytes.set(utf8);
      const digestBytes = new Uint8Array(e.digest.length / 2)
        .map((_, i) => parseInt(e.digest.slice(2 * i, 2 * i + 2), 16));
      const parts = { ...e, mtimeMs: ms + 0, pathBytes, digestBytes };
      buffer.append("before\n");
      appendEntryLine(buffer, parts);
      const text = new TextDecoder().decode(buffer.take());
      const expected = { ...e, mtimeMs: ms + 0, path: new TextDecoder().decode(utf8) };
      assert.equal(text, `before\n${formatEntry(expected)}\n`);
    }),
    { numRuns: 500 },
  );
});

Deno.test("formatManifest writes equal records as equal bytes, whatever the input order", () => {
  const entries = [entry("b.jpg"), entry("a/c.jpg"), entry("a.jpg", { verifiedAt: null })];
  assert.equal(formatManifest(entries, "sha256"), formatManifest([...entries].reverse(), "sha256"));
  assert.equal(formatManifest(entries, "sha256").split("\n")[0], HEADER);
  assert.equal(
    formatManifest(entries, "blake3").split("\n")[0],
    JSON.stringify({ format: "fanout-manifest", version: 1, hash: "blake3" }),
  );
});

/** Asserts that parsing `text` throws a ManifestError naming `line` of `file`. */
function assertRefused(text: string, line: number, why: string): void {
  assert.throws(
    () => parseManifest(text, "/dest/.fanout/manifest.ndjson"),
    (error: unknown) => {
      assert.ok(error instanceof ManifestError, `${why}: ${error}`);
      assert.match(error.message, new RegExp(`^/dest/\\.fanout/manifest\\.ndjson line ${line}:`));
      assert.equal(error.exitCode, 1);
      return true;
    },
    why,
  );
}

Deno.test("parseManifest refuses a bad entry line and names its line number", () => {
  const good = formatEntry(entry("DCIM/IMG_0001.JPG"));
  const spoiled = (changes: Record<string, unknown>) =>
    JSON.stringify({ ...fields(entry("a.jpg")), ...changes });
  const bad: [string, string][] = [
    ["invalid JSON", `{"path": "a.jpg", "size": 1`],
    ["not an object", `["a.jpg", 1]`],
    ["a path with ..", formatEntry(entry("DCIM/../../etc/passwd"))],
    ["a path that is only ..", formatEntry(entry(".."))],
    ["an absolute path", formatEntry(entry("/etc/passwd"))],
    ["an empty segment", formatEntry(entry("DCIM//IMG.JPG"))],
    ["a trailing slash", formatEntry(entry("DCIM/"))],
    ["an empty path", formatEntry(entry(""))],
    ["a NUL", formatEntry(entry("IMG\u0000.JPG"))],
    ["a path that is not a string", JSON.stringify({ ...fields(entry("x")), path: 7 })],
    ["uppercase sha256", spoiled({ sha256: SHA.toUpperCase() })],
    ["short sha256", spoiled({ sha256: SHA.slice(1) })],
    ["non-hex sha256", spoiled({ sha256: "g".repeat(64) })],
    ["an xxh128 of 64 digits", spoiled({ sha256: undefined, xxh128: SHA })],
    ["a short blake3", spoiled({ sha256: undefined, blake3: SHA.slice(32) })],
    ["two hashes", spoiled({ blake3: SHA })],
    ["no hash", spoiled({ sha256: undefined })],
    ["a hash that is not text", spoiled({ sha256: 7 })],
    ["a negative size", formatEntry(entry("a.jpg", { size: -1 }))],
    ["a fractional size", formatEntry(entry("a.jpg", { size: 1.5 }))],
    ["a size as text", JSON.stringify({ ...fields(entry("a.jpg")), size: "12" })],
    ["a missing mtime", JSON.stringify({ ...fields(entry("a.jpg")), mtimeMs: undefined })],
    ["a verifiedAt that is a number", JSON.stringify({ ...fields(entry("a.jpg")), verifiedAt: 5 })],
    ["a duplicate path", good],
  ];
  for (const [why, line] of bad) {
    assertRefused(`${HEADER}\n${good}\n${line}\n${formatEntry(entry("z.jpg"))}\n`, 3, why);
  }
});

Deno.test("parseManifest refuses a wrong or missing header on line 1", () => {
  const body = `${formatEntry(entry("a.jpg"))}\n`;
  const headers = [
    JSON.stringify({ format: "fanout-manifest", version: 2, hash: "sha256" }),
    JSON.stringify({ format: "something-else", version: 1 }),
    formatEntry(entry("a.jpg")),
    "fanout manifest v1",
    "",
  ];
  for (const header of headers) assertRefused(`${header}\n${body}`, 1, header);
  assertRefused("", 1, "an empty file");
});

Deno.test("readManifest of a destination without records is empty", async () => {
  await using folder = await testFolder();
  assert.equal((await readManifest(folder.path)).size, 0);
});

/** Real files in `root` and their entries. */
async function makeFiles(root: string): Promise<ManifestEntry[]> {
  const files: [string, string][] = [
    ["DCIM/100CANON/IMG_0001.JPG", "first photo"],
    ["DCIM/100CANON/IMG_0002.JPG", "second photo"],
    ["caf\u00e9 notes.txt", "notes"],
    ["odd\\name\n.txt", "escaped in SHA256SUMS"],
  ];
  const entries: ManifestEntry[] = [];
  for (const [rel, text] of files) {
    const file = path.join(root, ...rel.split("/"));
    await Deno.mkdir(path.dirname(file), { recursive: true });
    const data = new TextEncoder().encode(text);
    await Deno.writeFile(file, data);
    const digest = createHash("sha256").update(data).digest("hex");
    entries.push(entry(rel, { size: data.length, digest }));
  }
  return entries;
}

Deno.test("writeRecords writes .fanout/manifest.ndjson and a SHA256SUMS that sha256sum -c accepts", async () => {
  await using folder = await testFolder();
  const entries = await makeFiles(folder.path);
  await writeRecords(folder.path, entries);

  const manifest = await readManifest(folder.path);
  const sorted = [...entries].sort((a, b) => a.path < b.path ? -1 : 1);
  assert.deepEqual([...manifest.values()], sorted);
  const sums = await Deno.readTextFile(path.join(folder.path, ".fanout", "SHA256SUMS"));
  assert.deepEqual(
    parseSums(sums, SUMS_FORMATS.sha256),
    sorted.map(({ digest, path }) => ({ digest, path })),
  );

  const judge = await sh("sha256sum", ["--strict", "-c", ".fanout/SHA256SUMS"], {
    cwd: folder.path,
  });
  assert.equal(judge.code, 0, judge.stdout + judge.stderr);
  const names = (await Array.fromAsync(Deno.readDir(path.join(folder.path, ".fanout"))))
    .map((e) => e.name).sort();
  assert.deepEqual(names, ["SHA256SUMS", "manifest.ndjson"], "no temp file is left");
});

Deno.test("a second writeRecords with the same entries rewrites nothing; a changed entry rewrites", async () => {
  await using folder = await testFolder();
  const entries = await makeFiles(folder.path);
  await writeRecords(folder.path, entries);
  const records = ["manifest.ndjson", "SHA256SUMS"].map((name) =>
    path.join(folder.path, ".fanout", name)
  );
  const stamp = async (file: string) => {
    const info = await Deno.stat(file);
    return { ino: info.ino, mtime: info.mtime?.getTime(), ctime: info.ctime?.getTime() };
  };
  const before = await Promise.all(records.map(stamp));
  // Long enough for a rewrite to show in mtime and ctime, not only in the inode.
  await new Promise((resolve) => setTimeout(resolve, 50));

  await writeRecords(folder.path, [...entries].reverse());
  assert.deepEqual(await Promise.all(records.map(stamp)), before);

  await writeRecords(folder.path, [...entries.slice(1), { ...entries[0], verifiedAt: null }]);
  const after = await Promise.all(records.map(stamp));
  assert.notEqual(after[0].ino, before[0].ino, "the manifest changed and was rewritten");
  assert.deepEqual(after[1], before[1], "SHA256SUMS did not change and was kept");
});

Deno.test("records of many blocks, made one at a time in path order, are the bytes formatManifest makes", async () => {
  await using folder = await testFolder();
  // About 140 bytes a line: some 2 MiB of manifest, many blocks of it, some lines not ASCII.
  const entries = Array.from(
    { length: 15_000 },
    (_, i) =>
      entry(`DCIM/${String(i).padStart(6, "0")}${i % 7 === 0 ? " 東京" : ""}.JPG`, {
        digest: createHash("sha256").update(String(i)).digest("hex"),
        hash: i % 3 === 0 ? "xxh128" : "sha256",
        ...(i % 3 === 0 ? { digest: createHash("md5").update(String(i)).digest("hex") } : {}),
      }),
  );
  async function* oneAtATime() {
    for (const one of entries) yield one;
  }
  await writeRecords(folder.path, oneAtATime(), "sha256", { sorted: true });

  const records = path.join(folder.path, ".fanout");
  assert.equal(
    await Deno.readTextFile(path.join(records, "manifest.ndjson")),
    formatManifest(entries, "sha256"),
  );
  for (const format of [SUMS_FORMATS.sha256, SUMS_FORMATS.xxh128]) {
    const lines = parseSums(await Deno.readTextFile(path.join(records, format.name)), format);
    const expected = entries.filter((e) => e.hash === format.hash);
    assert.deepEqual(lines, expected.map(({ digest, path }) => ({ digest, path })));
  }
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(records))).map((e) => e.name).sort(),
    ["SHA256SUMS", "XXH128SUMS", "manifest.ndjson"],
    "no B3SUMS for no BLAKE3 entry, and no temp file",
  );
});

/** The parts a destination's run keeps of `e`: its path's UTF-8 and its digest's bytes. */
function partsOf(e: ManifestEntry): EntryParts {
  const { path: rel, digest, ...rest } = e;
  const pathBytes = new TextEncoder().encode(rel);
  const digestBytes = new Uint8Array(digest.length / 2)
    .map((_, i) => parseInt(digest.slice(2 * i, 2 * i + 2), 16));
  return { ...rest, pathBytes, digestBytes };
}

Deno.test("records written from a run's parts, mixed with entries, are the bytes of the entries alone", async () => {
  await using byParts = await testFolder();
  await using byEntries = await testFolder();
  // Many blocks; names JSON or the checksum tools escape, one xxhsum cannot list, non-ASCII.
  const odd = ['a"quote', "back\\slash", "new\nline", "carriage\rreturn", "tab\t", "東京"];
  const entries = Array.from({ length: 12_000 }, (_, i) => {
    // Each odd name (every 50th) with each hash (by the 300).
    const hash = HASH_ALGORITHMS[Math.floor(i / 300) % 3];
    return entry(`DCIM/${String(i).padStart(6, "0")}${i % 50 === 0 ? odd[(i / 50) % 6] : ""}.JPG`, {
      hash,
      digest: createHash("sha256").update(String(i)).digest("hex").slice(0, DIGEST_LENGTH[hash]),
      verifiedAt: i % 4 === 0 ? null : new Date(1_700_000_000_000 + i).toISOString(),
      mtimeMs: 1_600_000_000_000 + i * 1.5,
    });
  }).sort((a, b) => a.path < b.path ? -1 : 1);
  // Every other entry as its parts, made as they are asked for, in a plain generator.
  function* mixed(): Generator<RecordEntry> {
    for (const [i, one] of entries.entries()) yield i % 2 === 0 ? partsOf(one) : one;
  }
  await writeRecords(byParts.path, mixed(), "sha256", { sorted: true });
  await writeRecords(byEntries.path, entries, "sha256");

  const names = ["manifest.ndjson", "SHA256SUMS", "XXH128SUMS", "B3SUMS"];
  for (const name of names) {
    const [got, expected] = await Promise.all(
      [byParts, byEntries].map((folder) => Deno.readFile(path.join(folder.path, ".fanout", name))),
    );
    assert.deepEqual(got, expected, name);
  }
  assert.equal(
    await Deno.readTextFile(path.join(byParts.path, ".fanout", "manifest.ndjson")),
    formatManifest(entries, "sha256"),
  );
  const xxh = parseSums(
    await Deno.readTextFile(path.join(byParts.path, ".fanout", "XXH128SUMS")),
    SUMS_FORMATS.xxh128,
  );
  assert.equal(
    xxh.length,
    entries.filter((e) => e.hash === "xxh128").length -
      entries.filter((e) => e.hash === "xxh128" && e.path.includes("\n")).length,
  );
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(path.join(byParts.path, ".fanout")))).map((e) => e.name)
      .sort(),
    [...names].sort(),
    "no temp file is left",
  );
});

Deno.test("unsorted records given as parts are sorted by path like entries", async () => {
  await using folder = await testFolder();
  const entries = await makeFiles(folder.path);
  await writeRecords(folder.path, [...entries].reverse().map(partsOf));
  const manifest = await readManifest(folder.path);
  assert.deepEqual([...manifest.values()], [...entries].sort((a, b) => a.path < b.path ? -1 : 1));
  const judge = await sh("sha256sum", ["--strict", "-c", ".fanout/SHA256SUMS"], {
    cwd: folder.path,
  });
  assert.equal(judge.code, 0, judge.stdout + judge.stderr);
});

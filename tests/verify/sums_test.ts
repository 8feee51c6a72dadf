/**
 * The checksum files: SHA256SUMS in GNU coreutils format, XXH128SUMS for xxhsum, B3SUMS for
 * b3sum. The judges are the real tools: our lines must be their lines byte for byte, and
 * `sha256sum -c`, `xxhsum -c` and `b3sum -c` must accept our files.
 */
import { assert, fc } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { createHasher, HASH_ALGORITHMS } from "../../src/verify/hashers.ts";
import {
  appendSumLine,
  formatSumLine,
  formatSums,
  isListable,
  parseSums,
  type SumLine,
  SUMS_FORMATS,
  type SumsFormat,
} from "../../src/verify/sums.ts";
import { TextBuffer } from "../../src/text_buffer.ts";
import { sh, testFolder } from "../helpers.ts";

const HEX = "0123456789abcdef";
const sha256Arbitrary = fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });
const SHA256SUMS = SUMS_FORMATS.sha256;

/** Any unicode, with the characters that need escaping (and look-alikes) made frequent. */
const pathArbitrary = fc.array(
  fc.oneof(
    fc.constantFrom("\\", "\n", "\r", "\\n", "\\\\", " ", "  ", "*", "/", "\t"),
    fc.string({ unit: "binary", minLength: 1 }),
  ),
  { minLength: 1, maxLength: 8 },
).map((parts) => parts.join(""));

const ZERO = "0".repeat(64);

for (const format of Object.values(SUMS_FORMATS)) {
  Deno.test(`${format.name}: formatSums then parseSums gives back every listable path and hash`, () => {
    const length = format.hash === "xxh128" ? 32 : 64;
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            { digest: sha256Arbitrary.map((d) => d.slice(0, length)), path: pathArbitrary },
            {
              noNullPrototype: true,
            },
          ),
          { maxLength: 20 },
        ),
        (lines) => {
          const listable = lines.filter((line) => isListable(line.path, format));
          assert.deepEqual(parseSums(formatSums(lines, format), format), listable);
        },
      ),
    );
  });
}

Deno.test("appendSumLine writes, from a path's UTF-8 and a digest's bytes, formatSumLine's line or none", () => {
  const encoder = new TextEncoder();
  const buffer = new TextBuffer(16);
  fc.assert(
    fc.property(
      pathArbitrary,
      fc.uint8Array({ minLength: 16, maxLength: 32 }),
      fc.constantFrom(...Object.values(SUMS_FORMATS)),
      (path, digestBytes, format) => {
        // The path as a worker has it: UTF-8 in shared memory, as the file table keeps it.
        const utf8 = encoder.encode(path);
        const pathBytes = new Uint8Array(new SharedArrayBuffer(utf8.length + 3)).subarray(2, -1);
        pathBytes.set(utf8);
        buffer.append("before\n");
        appendSumLine(buffer, { pathBytes, digestBytes }, format);
        const digest = [...digestBytes].map((b) => b.toString(16).padStart(2, "0")).join("");
        const line = isListable(path, format) ? formatSumLine({ digest, path }, format) + "\n" : "";
        assert.equal(new TextDecoder().decode(buffer.take()), `before\n${line}`);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("a plain name is written as '<hex>  <name>' and an odd one is escaped", () => {
  const line = (path: string, format: SumsFormat) => formatSumLine({ digest: ZERO, path }, format);
  assert.equal(line("DCIM/IMG 1.JPG", SHA256SUMS), `${ZERO}  DCIM/IMG 1.JPG`);
  assert.equal(line("a\\b\nc\rd", SHA256SUMS), `\\${ZERO}  a\\\\b\\nc\\rd`);
  assert.equal(line("a\\b\nc\rd", SUMS_FORMATS.blake3), `\\${ZERO}  a\\\\b\\nc\rd`);
  assert.equal(line("a\\b\rd", SUMS_FORMATS.xxh128), `${ZERO}  a\\b\rd`);
  assert.equal(formatSums([{ digest: ZERO, path: "a\nb" }], SUMS_FORMATS.xxh128), "");
  assert.equal(formatSums([], SHA256SUMS), "");
});

Deno.test("parseSums accepts the binary-mode '*' marker and uppercase hex", () => {
  const hex = "AB".repeat(32);
  assert.deepEqual(parseSums(`${hex} *photo.jpg\n${ZERO}  notes.txt\n`, SHA256SUMS), [
    { digest: "ab".repeat(32), path: "photo.jpg" },
    { digest: ZERO, path: "notes.txt" },
  ]);
});

Deno.test("parseSums rejects a malformed line and names its line number", () => {
  const bad = [
    `${ZERO.slice(1)}  short-hash.jpg`,
    `${ZERO} one-space.jpg`,
    `${ZERO}\tTAB.jpg`,
    `no hash at all`,
    "",
  ];
  for (const line of bad) {
    const text = `${ZERO}  a.jpg\n${ZERO}  b.jpg\n${line}\n${ZERO}  d.jpg\n`;
    assert.throws(() => parseSums(text, SHA256SUMS), /line 3\b/, JSON.stringify(line));
  }
  const xxh = "0".repeat(32);
  assert.throws(
    () => parseSums(`${xxh}  a\n\\${xxh}  b\\nc\n`, SUMS_FORMATS.xxh128),
    /line 2: not a XXH128SUMS line/,
    "xxhsum has no escapes",
  );
});

/** Names a camera card or a careless script can produce. */
const ODD_NAMES = [
  "back\\slash.txt",
  "new\nline.txt",
  "carriage\rreturn.txt",
  "  spaces  around  .txt",
  "cafe\u0301 NFD.txt",
  "\u5199\u771f\u6771\u4eac.jpg",
  "all\\of\nthem\r\u00e9\u0301.bin",
  "plain.txt",
];

/** The real tool of each format: its command to print a line, and to check a file. */
const TOOLS: Record<string, { print: string[]; check: string[] }> = {
  SHA256SUMS: { print: ["sha256sum", "--"], check: ["sha256sum", "--strict", "-c"] },
  XXH128SUMS: { print: ["xxhsum", "-H2", "--"], check: ["xxhsum", "--strict", "-c"] },
  B3SUMS: { print: ["b3sum", "--"], check: ["b3sum", "-c"] },
};

async function writeOddFiles(folder: string, format: SumsFormat): Promise<SumLine[]> {
  const lines: SumLine[] = [];
  const hasher = await createHasher(format.hash);
  for (const [i, name] of ODD_NAMES.entries()) {
    const data = new TextEncoder().encode(`file ${i}: ${name}\n`);
    await Deno.writeFile(path.join(folder, name), data);
    hasher.init();
    hasher.update(data);
    lines.push({ digest: hasher.digest(), path: name });
  }
  return lines;
}

for (const hash of HASH_ALGORITHMS) {
  const format = SUMS_FORMATS[hash];
  const tool = TOOLS[format.name];
  const run = (args: string[], cwd: string) => sh(args[0], args.slice(1), { cwd });

  Deno.test(`${format.name}: each line equals the real ${tool.print[0]}'s line, byte for byte`, async () => {
    await using folder = await testFolder();
    const lines = await writeOddFiles(folder.path, format);
    for (const line of lines.filter((l) => isListable(l.path, format))) {
      const judge = await run([...tool.print, line.path], folder.path);
      assert.equal(judge.code, 0, judge.stderr);
      // Valid UTF-8 decodes one to one, so equal text here means equal bytes.
      assert.ok(!judge.stdout.includes("\ufffd"), "the tool printed valid UTF-8");
      assert.equal(formatSumLine(line, format) + "\n", judge.stdout, JSON.stringify(line.path));
    }
  });

  Deno.test(`${format.name}: ${tool.check[0]} -c accepts our file, and rejects it after a change`, async () => {
    await using folder = await testFolder();
    const lines = await writeOddFiles(folder.path, format);
    await Deno.writeTextFile(path.join(folder.path, format.name), formatSums(lines, format));
    const ok = await run([...tool.check, format.name], folder.path);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const listed = lines.filter((l) => isListable(l.path, format)).length;
    assert.equal(ok.stdout.match(/: OK$/gm)?.length, listed, ok.stdout);

    await Deno.writeTextFile(path.join(folder.path, "back\\slash.txt"), "changed");
    const changed = await run([...tool.check, format.name], folder.path);
    assert.equal(changed.code, 1, changed.stdout);
    assert.match(changed.stdout, /slash\.txt: FAILED$/m);
  });

  Deno.test(`${format.name}: parseSums reads what ${tool.print[0]} writes`, async () => {
    await using folder = await testFolder();
    const lines = await writeOddFiles(folder.path, format);
    const listable = lines.filter((l) => isListable(l.path, format));
    const judge = await run([...tool.print, ...listable.map((l) => l.path)], folder.path);
    assert.equal(judge.code, 0, judge.stderr);
    assert.deepEqual(parseSums(judge.stdout, format), listable);
  });
}

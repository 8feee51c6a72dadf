/**
 * SHA256SUMS in GNU coreutils format. The judge is the real `sha256sum`: our lines must be
 * its lines byte for byte, and `sha256sum -c` must accept our file.
 */
import { assert, fc } from "../deps.ts";
import { createHash, path } from "../../src/deps.ts";
import { formatSumLine, formatSums, parseSums, type SumLine } from "../../src/verify/sha256sums.ts";
import { sh, testFolder } from "../helpers.ts";

const HEX = "0123456789abcdef";
const sha256Arbitrary = fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });

/** Any unicode, with the characters that need escaping (and look-alikes) made frequent. */
const pathArbitrary = fc.array(
  fc.oneof(
    fc.constantFrom("\\", "\n", "\r", "\\n", "\\\\", " ", "  ", "*", "/", "\t"),
    fc.string({ unit: "binary", minLength: 1 }),
  ),
  { minLength: 1, maxLength: 8 },
).map((parts) => parts.join(""));

const ZERO = "0".repeat(64);

Deno.test("formatSums then parseSums gives back every path and hash, for any unicode path", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ sha256: sha256Arbitrary, path: pathArbitrary }, { noNullPrototype: true }),
        {
          maxLength: 20,
        },
      ),
      (lines) => {
        assert.deepEqual(parseSums(formatSums(lines)), lines);
      },
    ),
  );
});

Deno.test("a plain name is written as '<hex>  <name>' and an odd one is escaped", () => {
  assert.equal(formatSumLine({ sha256: ZERO, path: "DCIM/IMG 1.JPG" }), `${ZERO}  DCIM/IMG 1.JPG`);
  assert.equal(formatSumLine({ sha256: ZERO, path: "a\\b\nc\rd" }), `\\${ZERO}  a\\\\b\\nc\\rd`);
  assert.equal(formatSums([]), "");
});

Deno.test("parseSums accepts the binary-mode '*' marker and uppercase hex", () => {
  const hex = "AB".repeat(32);
  assert.deepEqual(parseSums(`${hex} *photo.jpg\n${ZERO}  notes.txt\n`), [
    { sha256: "ab".repeat(32), path: "photo.jpg" },
    { sha256: ZERO, path: "notes.txt" },
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
    assert.throws(() => parseSums(text), /line 3\b/, JSON.stringify(line));
  }
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

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function writeOddFiles(folder: string): Promise<SumLine[]> {
  const lines: SumLine[] = [];
  for (const [i, name] of ODD_NAMES.entries()) {
    const data = new TextEncoder().encode(`file ${i}: ${name}\n`);
    await Deno.writeFile(path.join(folder, name), data);
    lines.push({ sha256: sha256Hex(data), path: name });
  }
  return lines;
}

Deno.test("each line equals the real sha256sum's line for that file, byte for byte", async () => {
  await using folder = await testFolder();
  const lines = await writeOddFiles(folder.path);
  for (const line of lines) {
    const judge = await sh("sha256sum", ["--", line.path], { cwd: folder.path });
    assert.equal(judge.code, 0, judge.stderr);
    // Valid UTF-8 decodes one to one, so equal text here means equal bytes.
    assert.ok(!judge.stdout.includes("\ufffd"), "sha256sum printed valid UTF-8");
    assert.equal(formatSumLine(line) + "\n", judge.stdout, JSON.stringify(line.path));
  }
});

Deno.test("sha256sum -c accepts our SHA256SUMS for those files, and rejects it after a change", async () => {
  await using folder = await testFolder();
  const lines = await writeOddFiles(folder.path);
  await Deno.writeTextFile(path.join(folder.path, "SHA256SUMS"), formatSums(lines));
  const ok = await sh("sha256sum", ["--strict", "-c", "SHA256SUMS"], { cwd: folder.path });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(ok.stdout.match(/: OK$/gm)?.length, ODD_NAMES.length, ok.stdout);

  await Deno.writeTextFile(path.join(folder.path, "new\nline.txt"), "changed");
  const changed = await sh("sha256sum", ["-c", "SHA256SUMS"], { cwd: folder.path });
  assert.equal(changed.code, 1, changed.stdout);
  assert.match(changed.stdout, /^\\new\\nline\.txt: FAILED$/m);
});

Deno.test("parseSums reads what sha256sum writes", async () => {
  await using folder = await testFolder();
  const lines = await writeOddFiles(folder.path);
  const judge = await sh("sha256sum", ["--", ...ODD_NAMES], { cwd: folder.path });
  assert.equal(judge.code, 0, judge.stderr);
  assert.deepEqual(parseSums(judge.stdout), lines);
});

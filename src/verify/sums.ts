/**
 * The checksum files beside the manifest, one per algorithm, each in the format of the tool
 * that checks a destination without fanout: SHA256SUMS for `sha256sum -c` (GNU coreutils),
 * XXH128SUMS for `xxhsum -c` (xxHash 0.8), B3SUMS for `b3sum -c`. Each line is
 * "<hex>  <path>". A name with a character the tool escapes is written as the tool writes
 * it: the line starts with "\" and those characters become \\, \n and \r. coreutils escapes
 * all three, b3sum "\" and newlines (it reads a carriage return as it is), xxhsum nothing; so
 * a name with a newline cannot be listed in XXH128SUMS at all (`fanout verify` still checks
 * it).
 */
import { DIGEST_LENGTH, type HashAlgorithm } from "./hashers.ts";
import { hexString, type TextBuffer } from "../text_buffer.ts";

export interface SumsFormat {
  /** The file's name in `.fanout/`. */
  name: string;
  hash: HashAlgorithm;
  /** The characters the tool escapes in a name (its line then starts with "\"). */
  escapes: string;
}

export const SUMS_FORMATS: Readonly<Record<HashAlgorithm, SumsFormat>> = {
  sha256: { name: "SHA256SUMS", hash: "sha256", escapes: "\\\n\r" },
  xxh128: { name: "XXH128SUMS", hash: "xxh128", escapes: "" },
  blake3: { name: "B3SUMS", hash: "blake3", escapes: "\\\n" },
};

export interface SumLine {
  /** Lowercase hex. */
  digest: string;
  path: string;
}

const ESCAPED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r" };

/** Whether `format` can hold `path` in a line: only a newline that it cannot escape stops it. */
export function isListable(path: string, format: SumsFormat): boolean {
  return format.escapes.includes("\n") || !path.includes("\n");
}

/**
 * One line of a checksum file, without its line feed; `path` must be listable in `format`.
 *
 * @example
 * formatSumLine({ digest: "ab…", path: "a\nb" }, SUMS_FORMATS.sha256); // "\\ab…  a\\nb"
 */
export function formatSumLine({ digest, path }: SumLine, format: SumsFormat): string {
  if (!needsEscape(path, format)) return `${digest}  ${path}`;
  const name = path.replace(/[\\\n\r]/g, (c) => format.escapes.includes(c) ? ESCAPED[c] : c);
  return `\\${digest}  ${name}`;
}

/** Whether `path` holds a character `format` escapes (looked for one by one: at most 3). */
function needsEscape(path: string, format: SumsFormat): boolean {
  for (let i = 0; i < format.escapes.length; i++) {
    if (path.includes(format.escapes[i])) return true;
  }
  return false;
}

/** Character codes of "\\", "\n" and "\r": ASCII, so never part of another character's UTF-8. */
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * Appends to `into` the line formatSumLine makes of a path's UTF-8 and a digest's bytes, and
 * its line feed, or nothing for a path `format` cannot list. The bytes go in as they are: the
 * records of 100,000 files are written at a run's end, and each path decoded and each digest
 * made text only to be encoded again cost more than the line. A name the tool escapes (rare)
 * takes formatSumLine's way.
 */
export function appendSumLine(
  into: TextBuffer,
  { pathBytes, digestBytes }: { pathBytes: Uint8Array; digestBytes: Uint8Array },
  format: SumsFormat,
): void {
  if (
    !pathBytes.includes(BACKSLASH) && !pathBytes.includes(NEWLINE) &&
    !pathBytes.includes(RETURN)
  ) {
    into.appendHex(digestBytes);
    into.append("  ");
    into.appendBytes(pathBytes);
    into.append("\n");
    return;
  }
  const path = new TextDecoder().decode(pathBytes.slice());
  if (!isListable(path, format)) return;
  into.append(formatSumLine({ digest: hexString(digestBytes), path }, format) + "\n");
}

/** The whole file: one line per listable entry, each ending in a line feed. */
export function formatSums(lines: Iterable<SumLine>, format: SumsFormat): string {
  let text = "";
  for (const line of lines) {
    if (isListable(line.path, format)) text += formatSumLine(line, format) + "\n";
  }
  return text;
}

/**
 * Reads a checksum file of `format` (text or binary mode markers, escaped names). Throws
 * with the line number on a line that is not in that format.
 */
export function parseSums(text: string, format: SumsFormat): SumLine[] {
  const result: SumLine[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const pattern = new RegExp(`^(\\\\?)([0-9a-fA-F]{${DIGEST_LENGTH[format.hash]}}) [ *](.*)$`, "s");
  lines.forEach((raw, index) => {
    const match = pattern.exec(raw);
    if (!match || (match[1] && format.escapes === "")) {
      throw new Error(`line ${index + 1}: not a ${format.name} line`);
    }
    const [, escaped, digest, name] = match;
    const path = escaped
      ? name.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c === "r" ? "\r" : c)
      : name;
    result.push({ digest: digest.toLowerCase(), path });
  });
  return result;
}

/**
 * A destination's records in `<destination>/.fanout/`: `manifest.ndjson` (a header line,
 * then one JSON object per file: path, size, mtime, its digest in a field named for its
 * algorithm — `sha256`, `xxh128` or `blake3` — and verified time) and the checksum files
 * derived from it (SHA256SUMS, XXH128SUMS, B3SUMS). Entries of one manifest may differ in
 * algorithm: a rerun with another `--hash` keeps the records of the files it skips. Records
 * may have been edited by a person or another program, so reading checks every line and
 * names the line of the first problem.
 */
import { path } from "../deps.ts";
import { ExitCode, FanoutError } from "../errors.ts";
import { RECORDS_FOLDER } from "../coordinator/scan.ts";
import { Buffer } from "../deps.ts";
import { readFull, writeFull } from "../copy/whole_buffer.ts";
import { fsyncFolder, tempPathFor } from "../copy/durable.ts";
import { unsafeRelativePath } from "../relative_path.ts";
import {
  type ContentHash,
  DIGEST_LENGTH,
  DIGEST_PATTERN,
  HASH_ALGORITHMS,
  type HashAlgorithm,
} from "./hashers.ts";
import { appendSumLine, formatSumLine, isListable, SUMS_FORMATS } from "./sums.ts";
import { hexString, TextBuffer } from "../text_buffer.ts";

export const MANIFEST_NAME = "manifest.ndjson";
/** Entries of a run still going (or killed), one per line, merged into the manifest at its end. */
export const JOURNAL_NAME = "journal.ndjson";
export interface ManifestEntry extends ContentHash {
  /** Relative to the destination root, "/"-separated. */
  path: string;
  size: number;
  /** The source file's mtime, which the copy carries too. */
  mtimeMs: number;
  /** ISO time of the read-back that proved this copy; null if copied with --no-verify. */
  verifiedAt: string | null;
  /** A symlink copied as a link: its target (and `digest` is the hash of that text). */
  link?: string;
}

const FORMAT = "fanout-manifest";
const VERSION = 1;

/** A manifest that cannot be trusted; the message names the file and line. */
export class ManifestError extends FanoutError {
  constructor(file: string, line: number, problem: string) {
    super(`${file} line ${line}: ${problem}; fix or remove that line`, ExitCode.failed);
    this.name = "ManifestError";
  }
}

export function manifestPath(destination: string): string {
  return path.join(destination, RECORDS_FOLDER, MANIFEST_NAME);
}

export function journalPath(destination: string): string {
  return path.join(destination, RECORDS_FOLDER, JOURNAL_NAME);
}

/**
 * A destination's records as the last run left them: its manifest, updated by the journal
 * of a run that did not finish (killed, or the power went). Later journal lines win.
 */
export async function readRecords(destination: string): Promise<Map<string, ManifestEntry>> {
  const records = await readManifest(destination);
  const file = journalPath(destination);
  const text = await Deno.readTextFile(file).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  });
  for (const entry of parseJournal(text, file)) records.set(entry.path, entry);
  return records;
}

/**
 * Journal lines in order. A last line cut short by a kill is ignored; any other bad line
 * is an error naming it.
 */
export function parseJournal(text: string, file: string): ManifestEntry[] {
  const lines = text.split("\n");
  const torn = lines.pop() ?? "";
  const entries = lines.map((line, i) => checkEntry(parseLine(line, file, i + 1), file, i + 1));
  if (torn !== "") {
    try {
      entries.push(checkEntry(parseLine(torn, file, lines.length + 1), file, lines.length + 1));
    } catch {
      // Written up to the kill and no further: nothing it says can be trusted.
    }
  }
  return entries;
}

/**
 * Reads a destination's manifest; a destination without one has no entries.
 *
 * @example
 * const entries = await readManifest("/ssd/card"); // Map of path → entry
 */
export async function readManifest(destination: string): Promise<Map<string, ManifestEntry>> {
  const file = manifestPath(destination);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Map();
    throw error;
  }
  return parseManifest(text, file);
}

/** Parses manifest text; `file` is only used in messages. */
export function parseManifest(text: string, file: string): Map<string, ManifestEntry> {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const header = parseLine(lines[0] ?? "", file, 1);
  if (header.format !== FORMAT || header.version !== VERSION) {
    throw new ManifestError(file, 1, "not a fanout manifest of version 1");
  }
  const entries = new Map<string, ManifestEntry>();
  for (let i = 1; i < lines.length; i++) {
    const entry = checkEntry(parseLine(lines[i], file, i + 1), file, i + 1);
    if (entries.has(entry.path)) {
      throw new ManifestError(file, i + 1, `path ${JSON.stringify(entry.path)} is listed twice`);
    }
    entries.set(entry.path, entry);
  }
  return entries;
}

function parseLine(line: string, file: string, number: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ManifestError(file, number, "not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ManifestError(file, number, "not a JSON object");
  }
  return value as Record<string, unknown>;
}

function checkEntry(value: Record<string, unknown>, file: string, line: number): ManifestEntry {
  const { path: rel, size, mtimeMs, verifiedAt, link } = value;
  const fail = (problem: string) => new ManifestError(file, line, problem);
  if (typeof rel !== "string") throw fail(`"path" must be a string`);
  const unsafe = unsafeRelativePath(rel);
  if (unsafe) {
    throw fail(`path ${JSON.stringify(rel)} ${unsafe}; it must stay inside the destination`);
  }
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw fail(`"size" must be a whole number of bytes`);
  }
  if (typeof mtimeMs !== "number" || !Number.isFinite(mtimeMs)) {
    throw fail(`"mtimeMs" must be a number`);
  }
  const hashes = HASH_ALGORITHMS.filter((name) => value[name] !== undefined);
  if (hashes.length !== 1) {
    throw fail(`an entry needs exactly one of "sha256", "xxh128" or "blake3"`);
  }
  const hash = hashes[0];
  const digest = value[hash];
  const length = DIGEST_LENGTH[hash];
  if (typeof digest !== "string" || !DIGEST_PATTERN[hash].test(digest)) {
    throw fail(`"${hash}" must be ${length} lowercase hex digits`);
  }
  if (verifiedAt !== null && typeof verifiedAt !== "string") {
    throw fail(`"verifiedAt" must be a time or null`);
  }
  if (link !== undefined && (typeof link !== "string" || link === "" || link.includes("\0"))) {
    throw fail(`"link" must be the target of a symlink`);
  }
  return {
    path: rel,
    size: size as number,
    mtimeMs,
    hash,
    digest,
    verifiedAt,
    ...(link === undefined ? {} : { link }),
  };
}

/**
 * One entry as a line of the manifest or the journal (without its line feed).
 *
 * @example
 * formatEntry({ path: "a.jpg", size: 1, mtimeMs: 0, hash: "xxh128", digest: "…", verifiedAt: null });
 * // '{"path":"a.jpg","size":1,"mtimeMs":0,"xxh128":"…","verifiedAt":null}'
 */
export function formatEntry(entry: ManifestEntry): string {
  const { path: rel, size, mtimeMs, hash, digest, verifiedAt, link } = entry;
  // JSON.stringify of the object, field by field: an object with the hash's name as a key
  // is made slowly and written slowly, once per file and destination, twice when verifying.
  const text = JSON.stringify;
  return `{"path":${text(rel)},"size":${text(size)},"mtimeMs":${text(mtimeMs)},"${hash}":${
    text(digest)
  },"verifiedAt":${text(verifiedAt)}${link === undefined ? "" : `,"link":${text(link)}`}}`;
}

/** A file's record in the parts a destination's run keeps of it, in columns by file index. */
export interface EntryParts {
  /** The path as UTF-8 (OpenFileTable.pathBytes). */
  pathBytes: Uint8Array;
  size: number;
  mtimeMs: number;
  hash: HashAlgorithm;
  /** The digest's bytes (DigestColumn.bytes). */
  digestBytes: Uint8Array;
  /** An ISO time (which JSON writes as it is), or null. */
  verifiedAt: string | null;
}

/**
 * A record as writeRecords takes it: an entry, or the parts of one a destination's run keeps
 * of a file it copied, whose lines are written from their bytes (appendEntryLine).
 */
export type RecordEntry = ManifestEntry | EntryParts;

/** Bytes a JSON string holds only escaped: the control characters, `"` and `\`. */
const ESCAPED = new Uint8Array(256);
ESCAPED.fill(1, 0, 0x20);
ESCAPED[0x22] = ESCAPED[0x5c] = 1;
const utf8 = new TextDecoder();

/**
 * Appends to `into` the line formatEntry makes of the entry `parts` describe, and its line
 * feed, as UTF-8. The path's bytes and the digest's go in as they are: the journal gets a
 * line per file and destination, twice when verifying, and a path decoded, a digest turned
 * into text, the line made and then encoded cost more than the rest of a small file's record.
 */
export function appendEntryLine(into: TextBuffer, parts: EntryParts): void {
  const { pathBytes, size, mtimeMs, hash, digestBytes, verifiedAt } = parts;
  if (needsEscape(pathBytes) || !Number.isFinite(size) || !Number.isFinite(mtimeMs)) {
    // A path with a quote, a backslash or a control character (a rare name): as JSON writes it.
    into.append(formatEntry(asEntry(parts)) + "\n");
    return;
  }
  into.append('{"path":"');
  into.appendBytes(pathBytes);
  into.append('","size":');
  into.appendNumber(size);
  into.append(',"mtimeMs":');
  into.appendNumber(mtimeMs);
  into.append(',"');
  into.append(hash);
  into.append('":"');
  into.appendHex(digestBytes);
  if (verifiedAt === null) {
    into.append('","verifiedAt":null}\n');
  } else {
    into.append('","verifiedAt":"');
    into.append(verifiedAt);
    into.append('"}\n');
  }
}

function needsEscape(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (ESCAPED[bytes[i]] === 1) return true;
  return false;
}

/** The manifest's first line, with its line feed. */
function manifestHeader(hash: HashAlgorithm): string {
  return JSON.stringify({ format: FORMAT, version: VERSION, hash }) + "\n";
}

/**
 * The manifest text for `entries`, sorted by path so that equal records are equal bytes.
 * The header's `hash` is the algorithm of the run that wrote it; each entry names its own.
 */
export function formatManifest(entries: Iterable<ManifestEntry>, hash: HashAlgorithm): string {
  let text = manifestHeader(hash);
  for (const entry of sortedByPath(entries)) text += formatEntry(entry) + "\n";
  return text;
}

/**
 * Writes the manifest and the checksum files of a destination, each through temp + fsync +
 * rename: one checksum file per algorithm its entries use; the others are removed. `hash`
 * is the run's algorithm for the header; without it (a repair, an amendment) the header
 * keeps the one it has. A record whose bytes would not change is not rewritten, so an
 * unchanged rerun writes nothing.
 *
 * The files are written as the entries come, a block at a time, and compared with the old
 * ones on disk the same way: 100,000 entries never become one string. Entries that come
 * `sorted` by path are taken as they come (a generator may make each on demand); others are
 * sorted here first. A record may come as the parts a run keeps of a file (EntryParts),
 * whose lines are written from their bytes.
 */
export async function writeRecords(
  destination: string,
  entries: Iterable<RecordEntry> | AsyncIterable<RecordEntry>,
  hash?: HashAlgorithm,
  options: { sorted?: boolean } = {},
): Promise<void> {
  const folder = path.join(destination, RECORDS_FOLDER);
  await Deno.mkdir(folder, { recursive: true });
  const file = manifestPath(destination);
  const header = hash ?? await headerHash(file);
  const manifest = new RecordFile(file);
  const sums = new Map(
    Object.values(SUMS_FORMATS).map((format) => [format.hash, {
      format,
      out: new RecordFile(path.join(folder, format.name)),
    }]),
  );
  const files = [manifest, ...[...sums.values()].map(({ out }) => out)];
  const add = (entry: RecordEntry) => {
    const { format, out } = sums.get(entry.hash)!;
    if ("pathBytes" in entry) {
      appendEntryLine(manifest.pending, entry);
      appendSumLine(out.pending, entry, format);
    } else {
      manifest.pending.append(formatEntry(entry) + "\n");
      // A link is no file to hash: sha256sum -c would follow it.
      if (!entry.link && isListable(entry.path, format)) {
        out.pending.append(formatSumLine(entry, format) + "\n");
      }
    }
  };
  const spill = () => Promise.all(files.map((file) => file.spill()));
  let changed = false;
  try {
    manifest.pending.append(manifestHeader(header));
    if (options.sorted && Symbol.iterator in entries) {
      // Entries made on demand, each let go once its lines are written: no promise a line.
      for (const entry of entries) {
        add(entry);
        if (files.some(isFull)) await spill();
      }
    } else {
      const ordered = options.sorted
        ? entries
        : sortedByPath((await Array.fromAsync(entries)).map(asEntry));
      for await (const entry of ordered) {
        add(entry);
        if (files.some(isFull)) await spill();
      }
    }
    for (const { out } of sums.values()) changed = await out.finish() || changed;
    changed = await manifest.finish() || changed;
  } finally {
    await Promise.all(files.map((out) => out.abandon()));
  }
  // The manifest now holds everything the journal said.
  try {
    await Deno.remove(journalPath(destination));
    changed = true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (changed) await fsyncFolder(folder);
}

/** Bytes gathered before a block is written. */
const BLOCK = 256 * 1024;

const isFull = (file: RecordFile) => file.full;

/** A record as ManifestEntry, its path and digest made text from the parts a run keeps. */
function asEntry(entry: RecordEntry): ManifestEntry {
  if (!("pathBytes" in entry)) return entry;
  const { pathBytes, digestBytes, ...rest } = entry;
  return { ...rest, path: utf8.decode(pathBytes.slice()), digest: hexString(digestBytes) };
}

/**
 * One records file being written: text goes in a block at a time to a temp file beside it;
 * `finish` puts it in place only if it differs from the file there (an empty one removes
 * it). The caller fsyncs the folder.
 */
class RecordFile {
  #temp: Deno.FsFile | null = null;
  #finished = false;
  /**
   * The block being gathered, as UTF-8 in one buffer kept for the next: three destinations
   * writing 100,000 entries each at the end of a run leave no blocks behind for the GC.
   */
  #pending = new TextBuffer();
  #bytes = 0;

  constructor(readonly target: string) {}

  /** The block being gathered, to append lines to; `spill` writes it once it is `full`. */
  get pending(): TextBuffer {
    return this.#pending;
  }

  get full(): boolean {
    return this.#pending.length >= BLOCK;
  }

  /** Writes the block gathered if it is full. */
  async spill(): Promise<void> {
    if (this.full) await this.#write();
  }

  /** Ends the file; true if the folder changed (replaced or removed). */
  async finish(): Promise<boolean> {
    await this.#write();
    if (!this.#temp) {
      this.#finished = true;
      return await removeIfPresent(this.target);
    }
    await this.#temp.sync();
    this.#temp.close();
    this.#temp = null;
    const temp = tempPathFor(this.target);
    const same = await sameBytes(temp, this.target, this.#bytes);
    if (same) await Deno.remove(temp);
    else await Deno.rename(temp, this.target);
    this.#finished = true;
    return !same;
  }

  /** Closes and removes the temp file of a file not finished. */
  async abandon(): Promise<void> {
    if (this.#finished) return;
    this.#temp?.close();
    this.#temp = null;
    await Deno.remove(tempPathFor(this.target)).catch(() => {});
  }

  async #write(): Promise<void> {
    if (this.#pending.length === 0) return;
    this.#temp ??= await Deno.open(tempPathFor(this.target), {
      write: true,
      create: true,
      truncate: true,
    });
    const bytes = this.#pending.view();
    await writeFull(this.#temp, bytes);
    this.#bytes += bytes.length;
    this.#pending.clear();
  }
}

/** Whether `b` exists and holds the same `length` bytes as `a`, read a block at a time. */
async function sameBytes(a: string, b: string, length: number): Promise<boolean> {
  const info = await Deno.lstat(b).catch(() => null);
  if (!info?.isFile || info.size !== length) return false;
  using first = await Deno.open(a, { read: true });
  using second = await Deno.open(b, { read: true });
  const one = new Uint8Array(BLOCK);
  const two = new Uint8Array(BLOCK);
  for (;;) {
    const n = await readFull(first, one);
    const m = await readFull(second, two);
    if (n !== m || Buffer.compare(one.subarray(0, n), two.subarray(0, m)) !== 0) return false;
    if (n < BLOCK) return true;
  }
}

/**
 * The `hash` of a manifest's header (its first line); SHA-256 for a manifest without one, or
 * none at all.
 */
async function headerHash(file: string): Promise<HashAlgorithm> {
  try {
    using handle = await Deno.open(file, { read: true });
    const head = new Uint8Array(4096);
    const text = new TextDecoder().decode(head.subarray(0, await readFull(handle, head)));
    const { hash } = JSON.parse(text.slice(0, text.indexOf("\n")));
    if (HASH_ALGORITHMS.includes(hash)) return hash;
  } catch {
    // No manifest yet, or one to be replaced anyway.
  }
  return "sha256";
}

/** Removes `file`; true if it was there. */
async function removeIfPresent(file: string): Promise<boolean> {
  try {
    await Deno.remove(file);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return false;
  }
}

/** `entries` in the records' order: by path, as JavaScript compares strings. */
export function sortedByPath(entries: Iterable<ManifestEntry>): ManifestEntry[] {
  return [...entries].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * CopyStrategy: one file, source → temp file beside the target → final name. The source is
 * streamed in chunks through the run's hasher (SHA-256, xxh128 or BLAKE3) into the temp
 * file; mode and mtime are set and the data fsynced before the rename, so the final name
 * only ever holds a complete, flushed copy with its metadata. The caller fsyncs the folder
 * (the Flush phase). With `deferCommit` the copy stops short of the fsync and the rename,
 * and the caller makes a batch of such copies durable at once (CommitBatch) before it
 * renames them. With several destinations, the source's chunks are taken from the other
 * destinations' reads where they are at hand (SharedChunks), and read from the source only
 * where they are not.
 */
import { Buffer } from "../deps.ts";
import { SourceChangedError } from "../errors.ts";
import type { SourceFile } from "../coordinator/messages.ts";
import type { Hasher } from "../verify/hashers.ts";
import { tempPathFor } from "./durable.ts";
import type { Claim, SharedChunks } from "./shared_chunks.ts";
import { libcAtHand } from "../libc.ts";
import { readFull, writeFull } from "./whole_buffer.ts";

export interface CopyResult {
  /** Digest of the bytes read from the source, by the hasher's algorithm. */
  digest: string;
  bytes: number;
  /** Bytes taken over from the temp file of an interrupted run, after checking them. */
  resumed: number;
  /** With `deferCommit`: the complete temp file, not yet fsynced, for the caller to commit. */
  temp?: string;
  /** Of `bytes`, those taken from another destination's read of the source (`shared`). */
  taken: number;
}

export interface CopyOptions {
  /**
   * Before each chunk is written (bandwidth limit, throughput count); awaited when it returns
   * a promise.
   */
  pace?: (bytes: number) => Promise<void> | undefined;
  /** Refuse (before the rename) a source whose bytes do not hash to this. */
  expectedDigest?: string;
  /**
   * Leave the fsync and the rename to the caller, who gets the temp file's path; it must
   * not carry the final name until it is durable. Only for a local file system (where one
   * flush can commit a batch): a copy that fits the buffer is then written with
   * synchronous calls, which return at memory speed there (see copyWhole).
   */
  deferCommit?: boolean;
  /**
   * The chunks the other destinations read of the source, and this file's index among them:
   * a chunk found there is taken instead of read, and a chunk read is left there for the others.
   */
  shared?: { chunks: SharedChunks; file: number };
  /** The source is on a local file system (onLocalDisk): a small one opens in a plain call. */
  localSource?: boolean;
  /** The source's read is under way (Libc.readAhead): a small one is read in a plain call. */
  sourceAhead?: boolean;
  /** The source, open since its read-ahead (Libc.openAhead): a small one is read from it. */
  sourceFd?: number;
}

/** Files from this size on resume from the temp file an interrupted run left. */
export const RESUME_MIN_BYTES = 64 * 2 ** 20;

/**
 * Copies `sourcePath` (as scanned in `file`) to `target`, using `buffer` for every chunk and
 * `hasher` (initialized) for its digest.
 * Throws SourceChangedError if the source's size or mtime differs from the scan afterwards.
 *
 * @example
 * const { digest } = await copyFile("/card/a.jpg", file, "/ssd/card/a.jpg", buffer, hasher);
 */
export async function copyFile(
  sourcePath: string,
  file: SourceFile,
  target: string,
  buffer: Uint8Array,
  hasher: Hasher,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const { pace, expectedDigest, deferCommit } = options;
  const temp = tempPathFor(target);
  try {
    if (deferCommit && !file.sparse && file.size < buffer.length) {
      return await copyWhole(sourcePath, file, temp, buffer, hasher, options);
    }
    using source = await openSource(sourcePath);
    const leftover = file.size >= RESUME_MIN_BYTES ? await sizeOf(temp) : 0;
    using out = await Deno.open(temp, {
      read: true,
      write: true,
      create: true,
      truncate: leftover === 0,
    });
    let bytes = 0;
    let resumed = 0;
    if (leftover > 0 && leftover <= file.size) {
      resumed = await checkedPrefix(source, out, leftover, buffer, hasher, pace);
      if (resumed === 0) {
        // The leftover is not this file's beginning: start over.
        await out.truncate(0);
        await out.seek(0, Deno.SeekMode.Start);
        await source.seek(0, Deno.SeekMode.Start);
        hasher.init();
      }
      bytes = resumed;
    } else if (leftover > 0) {
      await out.truncate(0);
    }
    const reader = new ChunkReader(source, file, buffer, bytes, options.shared);
    for (let n = await reader.read(bytes); n !== null; n = await reader.read(bytes)) {
      const chunk = buffer.subarray(0, n);
      hasher.update(chunk);
      await pace?.(n);
      // A sparse source keeps its holes: a chunk of zeros is skipped over, not written.
      if (file.sparse && allZero(chunk)) await out.seek(n, Deno.SeekMode.Current);
      else await writeFull(out, chunk);
      bytes += n;
      // A short read that ends at the scanned size is the end: no read just to hear so. A
      // file that grew after it is caught by the check below, by its size.
      if (n < buffer.length && bytes === file.size) break;
    }
    // A hole at the end is only a length.
    if (file.sparse) await out.truncate(bytes);
    await checkUnchanged(source, file, bytes);
    const digest = checkedDigest(hasher, expectedDigest);
    const mode = permissionsOf(file);
    if (mode !== undefined) await Deno.chmod(temp, mode);
    await out.utime(new Date(), new Date(file.mtimeMs));
    const { taken } = reader;
    if (deferCommit) return { digest, bytes, resumed, temp, taken };
    await out.sync();
    out.close();
    await Deno.rename(temp, target);
    return { digest, bytes, resumed, taken };
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** The source, open for reading; a source gone since the scan is a SourceChangedError. */
async function openSource(sourcePath: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(sourcePath, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SourceChangedError("the source file vanished before it was copied");
    }
    throw error;
  }
}

/**
 * A small copy on a local file system, left for the caller to commit: the source is read
 * whole into `buffer` (asynchronously: a memory card answers slowly, and the other copy
 * slots go on meanwhile), then the temp file is written, its mode and mtime set, in
 * synchronous calls. Those only touch the page cache, and with several destinations, whose
 * threads share the CPUs, one synchronous call costs a fraction of an asynchronous one's
 * hand-off to Deno's I/O threads and back. Both are plain libc calls where libc is at hand
 * (Linux), which spares Deno's checks of each path; a call that fails there is made again
 * through Deno, whose error tells why. A file another destination read whole and found
 * unchanged is taken from its read with the digest its reader made of those bytes: the
 * source is not touched at all, nor the bytes hashed again.
 */
async function copyWhole(
  sourcePath: string,
  file: SourceFile,
  temp: string,
  buffer: Uint8Array,
  hasher: Hasher,
  options: CopyOptions,
): Promise<CopyResult> {
  const { shared } = options;
  const bytes = file.size;
  const data = buffer.subarray(0, bytes);
  const got = shared ? await shared.chunks.obtain(shared.file, 0, data) : null;
  // The digest of a file taken whole comes with it, made by its reader of the same bytes.
  let digest = got?.taken === "checked" ? got.digest : null;
  if (!got || got.taken === "none") {
    if (got?.claim) {
      digest = await readForOthers(sourcePath, file, buffer, hasher, got.claim, options);
    } else await readWhole(sourcePath, file, buffer, options);
  } else if (got.taken === "chunk") {
    // A chunk filled before its reader's check: the source is checked here.
    using source = await openSource(sourcePath);
    await checkUnchanged(source, file, bytes);
  }
  if (digest === null) {
    hasher.update(data);
    digest = hasher.digest();
  }
  const paced = options.pace?.(bytes);
  if (paced) await paced;
  checkDigest(digest, hasher.algorithm, options.expectedDigest);
  const mode = permissionsOf(file);
  if (!libcAtHand()?.writeWhole(temp, data, mode, file.mtimeMs)) {
    // With a mode, the file is made with it and then set to it exactly, whatever the umask.
    Deno.writeFileSync(temp, data, { mode });
    Deno.utimeSync(temp, new Date(), new Date(file.mtimeMs));
  }
  return { digest, bytes, resumed: 0, temp, taken: got && got.taken !== "none" ? bytes : 0 };
}

/**
 * Reads a small source whole for a destination that will copy it (SourceReader), into the
 * slot of `claim`, checked against the scan and with the digest of its bytes by `hasher`
 * (initialized). A source that cannot be read or is not as scanned gives the slot up: the
 * destination's own read then finds out why, and tells.
 */
export async function readAheadForCopy(
  sourcePath: string,
  file: SourceFile,
  buffer: Uint8Array,
  hasher: Hasher,
  claim: Claim,
): Promise<void> {
  try {
    await readForOthers(sourcePath, file, buffer, hasher, claim, {
      localSource: true,
      sourceAhead: true,
    });
  } catch {
    // Given up: the destination's own read tells why.
  }
}

/**
 * Reads a small source whole into `buffer` (see readWhole) for the others too: the slot of
 * `claim` is filled with it, checked, and with its digest by `hasher` (initialized), which is
 * returned. A read that fails gives the slot up, and throws.
 */
async function readForOthers(
  sourcePath: string,
  file: SourceFile,
  buffer: Uint8Array,
  hasher: Hasher,
  claim: Claim,
  options: CopyOptions,
): Promise<string> {
  const data = buffer.subarray(0, file.size);
  try {
    await readWhole(sourcePath, file, buffer, options);
  } catch (error) {
    claim.abandon();
    throw error;
  }
  hasher.update(data);
  const digest = hasher.digest();
  claim.fill(data, true, digest);
  return digest;
}

/**
 * Reads a small source whole into `buffer`, its `file.size` bytes, or throws the
 * SourceChangedError of a source not as scanned. One read holds the file; a short read before
 * its scanned size asks again.
 */
async function readWhole(
  sourcePath: string,
  file: SourceFile,
  buffer: Uint8Array,
  { localSource: local, sourceAhead: ahead, sourceFd: fd }: CopyOptions,
): Promise<void> {
  const libc = libcAtHand();
  // Open since its read-ahead: read at once, in plain calls (what libc.readWhole does too,
  // after a promise of its own).
  const read = libc && fd !== undefined && fd >= 0
    ? libc.readOpen(fd, buffer, file.size)
    : await libc?.readWhole(sourcePath, buffer, file.size, { local, ahead, fd });
  if (read) {
    checkAgainstScan(file, read.bytes, read);
    return;
  }
  using source = await openSource(sourcePath);
  let bytes = 0;
  while (bytes < buffer.length) {
    const n = await source.read(buffer.subarray(bytes));
    if (n === null) break;
    bytes += n;
    if (bytes === file.size) break;
  }
  await checkUnchanged(source, file, bytes);
}

/**
 * Reads the source chunk by chunk into one buffer, each chunk at an offset that is a multiple
 * of the buffer's length (as every destination reads it) and whole up to the scanned size: a
 * chunk another destination read is copied from its read, any other is read from the source
 * for the others too (SharedChunks). Past the scanned size it reads the file itself, to hear
 * of its end (or that it grew).
 */
class ChunkReader {
  /** Bytes taken from the other destinations' reads. */
  taken = 0;
  /** Where the source's file position is. */
  #position: number;

  constructor(
    private readonly source: Deno.FsFile,
    private readonly file: SourceFile,
    private readonly buffer: Uint8Array,
    position: number,
    private readonly shared: CopyOptions["shared"],
  ) {
    this.#position = position;
  }

  /** The chunk at `offset`, in the buffer's first bytes; null at the end of the source. */
  async read(offset: number): Promise<number | null> {
    const { source, buffer, shared } = this;
    const want = Math.min(buffer.length, this.file.size - offset);
    if (want <= 0) {
      await this.#seek(offset);
      const n = await source.read(buffer);
      if (n !== null) this.#position += n;
      return n;
    }
    const chunk = buffer.subarray(0, want);
    let claim: Claim | null = null;
    if (shared) {
      const got = await shared.chunks.obtain(shared.file, offset, chunk);
      if (got.taken !== "none") {
        shared.chunks.passed(shared.file, offset);
        this.taken += want;
        return want;
      }
      claim = got.claim;
    }
    let n: number;
    try {
      await this.#seek(offset);
      n = await readFull(source, chunk);
    } catch (error) {
      claim?.abandon();
      throw error;
    }
    this.#position += n;
    if (n === want) claim?.fill(chunk);
    else claim?.abandon();
    shared?.chunks.passed(shared.file, offset);
    return n === 0 ? null : n;
  }

  async #seek(offset: number): Promise<void> {
    if (offset === this.#position) return;
    await this.source.seek(offset, Deno.SeekMode.Start);
    this.#position = offset;
  }
}

/** The permission bits a copy of `file` gets; none where the platform has none (Windows). */
function permissionsOf(file: SourceFile): number | undefined {
  return file.mode !== null && Deno.build.os !== "windows" ? file.mode & 0o777 : undefined;
}

/** The hasher's digest; a SourceChangedError if it is not the `expected` one. */
function checkedDigest(hasher: Hasher, expected: string | undefined): string {
  const digest = hasher.digest();
  checkDigest(digest, hasher.algorithm, expected);
  return digest;
}

/** A SourceChangedError if the source's `digest` (by `algorithm`) is not the `expected` one. */
function checkDigest(digest: string, algorithm: string, expected: string | undefined): void {
  if (expected !== undefined && digest !== expected) {
    throw new SourceChangedError(
      `the source no longer holds the recorded content (its ${algorithm} is ${digest})`,
    );
  }
}

/**
 * Throws SourceChangedError unless the open `source` still has the size and mtime of the
 * scan, and that many bytes were read from it.
 */
async function checkUnchanged(source: Deno.FsFile, file: SourceFile, bytesRead: number) {
  const now = await source.stat();
  checkAgainstScan(file, bytesRead, { size: now.size, mtimeMs: now.mtime?.getTime() ?? 0 });
}

/** A SourceChangedError if the source, `now` after `bytesRead` were read, is not as scanned. */
function checkAgainstScan(
  file: SourceFile,
  bytesRead: number,
  now: { size: number; mtimeMs: number },
): void {
  if (bytesRead !== file.size || now.size !== file.size) {
    throw new SourceChangedError(
      `source changed while it was copied: ${file.size} bytes when scanned, ${bytesRead} read, ${now.size} now`,
    );
  }
  if (now.mtimeMs !== file.mtimeMs) {
    throw new SourceChangedError(
      `source changed while it was copied: modified at ${new Date(now.mtimeMs).toISOString()}`,
    );
  }
}

/** The size of `file`, 0 if it is missing. */
async function sizeOf(file: string): Promise<number> {
  try {
    return (await Deno.lstat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * Compares the first `length` bytes of the source with the temp file left by an interrupted
 * run, hashing the source's as it goes. Returns `length` if they are the same (both files
 * are then positioned after them), 0 if not.
 */
async function checkedPrefix(
  source: Deno.FsFile,
  temp: Deno.FsFile,
  length: number,
  buffer: Uint8Array,
  hasher: Hasher,
  pace?: (bytes: number) => Promise<void> | undefined,
): Promise<number> {
  const written = new Uint8Array(buffer.length);
  for (let done = 0; done < length;) {
    const want = Math.min(buffer.length, length - done);
    const n = await readFull(source, buffer.subarray(0, want));
    const m = await readFull(temp, written.subarray(0, want));
    if (n !== want || m !== want) return 0;
    if (Buffer.compare(buffer.subarray(0, n), written.subarray(0, n)) !== 0) return 0;
    hasher.update(buffer.subarray(0, n));
    await pace?.(n);
    done += n;
  }
  return length;
}

let zeros = new Uint8Array(0);

/** Whether every byte of `chunk` is zero (a native memcmp against zeros). */
function allZero(chunk: Uint8Array): boolean {
  if (zeros.length < chunk.length) zeros = new Uint8Array(chunk.length);
  return Buffer.compare(chunk, zeros.subarray(0, chunk.length)) === 0;
}

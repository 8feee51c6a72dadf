/**
 * CopyStrategy: one file, source → temp file beside the target → final name. The source is
 * streamed in chunks through the SHA-256 hasher into the temp file; mode and mtime are set
 * and the data fsynced before the rename, so the final name only ever holds a complete,
 * flushed copy with its metadata. The caller fsyncs the folder (the Flush phase).
 */
import { Buffer } from "../deps.ts";
import { SourceChangedError } from "../errors.ts";
import type { SourceFile } from "../coordinator/messages.ts";
import { sha256Hasher } from "../verify/hashers.ts";
import { tempPathFor } from "./durable.ts";

export interface CopyResult {
  /** SHA-256 of the bytes read from the source. */
  sha256: string;
  bytes: number;
}

/**
 * Copies `sourcePath` (as scanned in `file`) to `target`, using `buffer` for every chunk;
 * `pace` is awaited before each chunk is written (bandwidth limit, throughput count).
 * Throws SourceChangedError if the source's size or mtime differs from the scan afterwards.
 *
 * @example
 * const { sha256 } = await copyFile("/card/a.jpg", file, "/ssd/card/a.jpg", buffer);
 */
export async function copyFile(
  sourcePath: string,
  file: SourceFile,
  target: string,
  buffer: Uint8Array,
  pace?: (bytes: number) => Promise<void>,
  /** Refuse (before the rename) a source whose bytes do not hash to this. */
  expectedSha256?: string,
): Promise<CopyResult> {
  const temp = tempPathFor(target);
  try {
    using source = await Deno.open(sourcePath, { read: true }).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new SourceChangedError("the source file vanished before it was copied");
      }
      throw error;
    });
    using out = await Deno.open(temp, { write: true, create: true, truncate: true });
    const hasher = sha256Hasher();
    let bytes = 0;
    for (let n = await source.read(buffer); n !== null; n = await source.read(buffer)) {
      const chunk = buffer.subarray(0, n);
      hasher.update(chunk);
      await pace?.(n);
      // A sparse source keeps its holes: a chunk of zeros is skipped over, not written.
      if (file.sparse && allZero(chunk)) await out.seek(n, Deno.SeekMode.Current);
      else for (let written = 0; written < n;) written += await out.write(chunk.subarray(written));
      bytes += n;
    }
    // A hole at the end is only a length.
    if (file.sparse) await out.truncate(bytes);
    await checkUnchanged(sourcePath, file, bytes);
    const sha256 = hasher.digest();
    if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
      throw new SourceChangedError(
        `the source no longer holds the recorded content (its sha256 is ${sha256})`,
      );
    }
    if (file.mode !== null && Deno.build.os !== "windows") {
      await Deno.chmod(temp, file.mode & 0o777);
    }
    await out.utime(new Date(), new Date(file.mtimeMs));
    await out.sync();
    out.close();
    await Deno.rename(temp, target);
    return { sha256, bytes };
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

async function checkUnchanged(sourcePath: string, file: SourceFile, bytesRead: number) {
  const now = await Deno.lstat(sourcePath);
  const mtimeMs = now.mtime?.getTime() ?? 0;
  if (bytesRead !== file.size || now.size !== file.size) {
    throw new SourceChangedError(
      `source changed while it was copied: ${file.size} bytes when scanned, ${bytesRead} read, ${now.size} now`,
    );
  }
  if (mtimeMs !== file.mtimeMs) {
    throw new SourceChangedError(
      `source changed while it was copied: modified at ${new Date(mtimeMs).toISOString()}`,
    );
  }
}

let zeros = new Uint8Array(0);

/** Whether every byte of `chunk` is zero (a native memcmp against zeros). */
function allZero(chunk: Uint8Array): boolean {
  if (zeros.length < chunk.length) zeros = new Uint8Array(chunk.length);
  return Buffer.compare(chunk, zeros.subarray(0, chunk.length)) === 0;
}

/** The content hash of fanout's records and checks. */
import { createHash } from "../deps.ts";

export interface Hasher {
  update(chunk: Uint8Array): void;
  /** Lowercase hex digest; the hasher is spent afterwards. */
  digest(): string;
}

/** A streaming SHA-256 (node:crypto): fed chunk by chunk, never the whole file. */
export function sha256Hasher(): Hasher {
  const hash = createHash("sha256");
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => hash.digest("hex"),
  };
}

/**
 * SHA-256 of a text (UTF-8), in lowercase hex.
 *
 * @example
 * sha256Text("abc"); // "ba7816bf…"
 */
export function sha256Text(text: string): string {
  const hasher = sha256Hasher();
  hasher.update(new TextEncoder().encode(text));
  return hasher.digest();
}

/** Chunk size of every streaming read, per slot. */
export const CHUNK_SIZE = 1 << 20;

/**
 * Hashes a file by streaming it through `buffer`; `pace` is awaited after each chunk.
 *
 * @example
 * const { sha256, bytes } = await hashFile("/dest/a.jpg", new Uint8Array(CHUNK_SIZE));
 */
export async function hashFile(
  file: string,
  buffer: Uint8Array,
  pace?: (bytes: number) => Promise<void>,
): Promise<{ sha256: string; bytes: number }> {
  const hasher = sha256Hasher();
  let bytes = 0;
  using handle = await Deno.open(file, { read: true });
  for (let n = await handle.read(buffer); n !== null; n = await handle.read(buffer)) {
    hasher.update(buffer.subarray(0, n));
    bytes += n;
    await pace?.(n);
  }
  return { sha256: hasher.digest(), bytes };
}

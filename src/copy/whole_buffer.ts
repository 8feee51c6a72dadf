/**
 * A buffer read or written whole through Deno's file API, however many calls that takes: a
 * read or a write may do less than asked (a pipe, a signal, a network file system).
 */

/** Writes all of `bytes` to `file`, however many writes that takes. */
export async function writeFull(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Reads until `into` is full or the file ends; returns the bytes read. */
export async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(into.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

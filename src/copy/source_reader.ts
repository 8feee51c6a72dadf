/**
 * SourceReader: with one destination and a CPU to spare, a thread of its own reads the small
 * files of a local source ahead of the destination's copy slots, hashes them, and leaves each
 * in the shared chunks (SharedChunks) with its digest, as a second destination's read would
 * be left: the destination's thread then only writes them. Alone, that thread reads, hashes
 * and writes every small file one after another, and is what the copy waits for; the other
 * CPU has little to do.
 *
 * The destination asks for files in the order it will copy them, as its queue takes them
 * into its read-ahead (ReadRequests: a ring of file numbers in shared memory, told through
 * Atomics). The reader starts the kernel's read of each file asked for (posix_fadvise
 * WILLNEED), then reads them in turn in plain calls, checks each against the scan (size and
 * mtime, after the read), hashes it and fills a claimed slot, marked checked. The destination
 * takes a file from there, with its digest, or reads it itself when it is not there (not yet
 * read, given up, or replaced): the reader only ever spares it work, and a source that cannot
 * be read, or changed, is left for the destination's own read to find and tell.
 */
import { fileAt, openFileTable, type SharedFileTable } from "../coordinator/file_table.ts";
import type { Libc } from "../libc.ts";
import { toNative } from "../relative_path.ts";
import { createHasher, type HashAlgorithm } from "../verify/hashers.ts";
import { readAheadForCopy } from "./copy_strategy.ts";
import { SharedChunks, type SharedChunksMemory, SMALL_CHUNK } from "./shared_chunks.ts";

/** Requests the ring holds: far more than a destination reads ahead (READ_AHEAD). */
export const READ_REQUESTS = 1024;

/** Ring words: the count of requests made, 1 once no more will come, then the file numbers. */
const ASKED = 0;
const ENDED = 1;
const FIRST = 2;

/** How long the reader sleeps at most between looks at the ring, when nothing is asked. */
const IDLE_WAIT_MS = 100;

/** The ring of a destination's requests, made by the coordinator for both threads. */
export function readRequestsMemory(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((FIRST + READ_REQUESTS) * 4));
}

/** The destination's side of the ring. */
export class ReadRequests {
  #asked = 0;

  constructor(private readonly ring: Int32Array) {}

  /** Asks for `file` (a small one), in the order the destination will copy. */
  ask(file: number): void {
    this.ring[FIRST + this.#asked % READ_REQUESTS] = file;
    Atomics.store(this.ring, ASKED, ++this.#asked);
    Atomics.notify(this.ring, ASKED);
  }

  /** No more requests: the reader ends. */
  end(): void {
    Atomics.store(this.ring, ENDED, 1);
    Atomics.notify(this.ring, ASKED);
  }
}

/** What the reader's thread is given, once. */
export interface SourceReaderJob {
  /** Absolute source root, on a local file system. */
  source: string;
  files: SharedFileTable;
  chunks: { memory: SharedChunksMemory; destination: number };
  requests: Int32Array;
  hash: HashAlgorithm;
}

/**
 * Serves the requests until the destination ends them. Blocks its thread between requests
 * (Atomics.wait): it is a thread of its own.
 */
export async function serveReads(job: SourceReaderJob, libc: Libc): Promise<void> {
  const files = openFileTable(job.files);
  const chunks = new SharedChunks(job.chunks.memory, job.chunks.destination);
  // It takes nothing from the destination's reads: the destination fills nothing for it.
  chunks.releaseAll();
  const hasher = await createHasher(job.hash);
  const buffer = new Uint8Array(SMALL_CHUNK);
  const ring = job.requests;
  const sourceOf = (file: number) => toNative(job.source, files.path(file));
  let served = 0;
  let started = 0;
  for (;;) {
    const asked = Atomics.load(ring, ASKED);
    if (served === asked) {
      if (Atomics.load(ring, ENDED) === 1) return;
      Atomics.wait(ring, ASKED, asked, IDLE_WAIT_MS);
      continue;
    }
    // So far behind that the ring went round: those files are the destination's own.
    served = Math.max(served, asked - READ_REQUESTS);
    for (started = Math.max(started, served); started < asked; started++) {
      libc.readAhead(sourceOf(ring[FIRST + started % READ_REQUESTS]), false);
    }
    const file = ring[FIRST + served % READ_REQUESTS];
    served++;
    const size = files.sizes[file];
    if (size === 0 || size >= SMALL_CHUNK) continue;
    const claim = chunks.claim(file, 0, size);
    if (!claim) continue;
    hasher.init();
    await readAheadForCopy(sourceOf(file), fileAt(files, file), buffer, hasher, claim);
  }
}

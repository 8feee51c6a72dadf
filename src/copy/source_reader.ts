/**
 * SourceReader: with one destination and a CPU to spare, a thread of its own reads the small
 * files of a local source ahead of the destination's copy slots, hashes them, and leaves each
 * in the shared chunks (SharedChunks) with its digest, as a second destination's read would
 * be left: the destination's thread then only writes them. Alone, that thread reads, hashes
 * and writes every small file one after another, and is what the copy waits for; the other
 * CPU has little to do. In the Verify phase, where the destination cannot read its copies
 * with O_DIRECT (DirectReads), it reads the small copies back the same way, from the disk
 * (their pages dropped from the page cache first, as the destination's own read-back does),
 * and leaves each one's digest, byte count and whether its pages were dropped.
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
import { changedFrom } from "../concurrency.ts";
import { fileAt, openFileTable, type SharedFileTable } from "../coordinator/file_table.ts";
import type { Libc } from "../libc.ts";
import { toNative } from "../relative_path.ts";
import {
  createHasher,
  type HashAlgorithm,
  type Hasher,
  LONGEST_DIGEST,
  putDigestText,
  takeDigestText,
} from "../verify/hashers.ts";
import { readAheadForCopy } from "./copy_strategy.ts";
import { SharedChunks, type SharedChunksMemory, SMALL_CHUNK } from "./shared_chunks.ts";

/** Requests the ring holds: far more than a destination reads ahead (READ_AHEAD). */
export const READ_REQUESTS = 1024;

/**
 * Ring words: the count of requests made, 1 once no more will come, then the file numbers: n
 * for a copy's source, −(n + 1) for a copy to read back.
 */
const ASKED = 0;
const ENDED = 1;
const FIRST = 2;

/** Result words of each ring place (a read-back's): its state, bytes read, dropped, digest length. */
const STATE = 0;
const BYTES = 1;
const DROPPED = 2;
const DIGEST_LENGTH = 3;
const RESULT_WORDS = 4;
/** Room for the longest hex digest. */
const DIGEST_TEXT = LONGEST_DIGEST;

/** A read-back's states: asked; taken back by the destination; being read; read; failed. */
const WAITING = 1;
const CANCELLED = 2;
const READING = 3;
const READ = 4;
const FAILED = 5;

/** The longest the destination waits for a read-back under way before it reads itself. */
const READ_BACK_WAIT_MS = 1000;

/** The shared memory of the requests and of the read-backs' results. */
export interface ReadRequestsMemory {
  ring: Int32Array;
  results: Int32Array;
  digests: Uint8Array;
}

/** What the reader found of a copy it read back. */
export interface ReadBackResult {
  digest: string;
  bytes: number;
  /** Its pages were dropped from the page cache before the read: it came from the disk. */
  dropped: boolean;
}

/** How long the reader sleeps at most between looks at the ring, when nothing is asked. */
const IDLE_WAIT_MS = 100;

/** The ring of a destination's requests, made by the coordinator for both threads. */
export function readRequestsMemory(): ReadRequestsMemory {
  return {
    ring: new Int32Array(new SharedArrayBuffer((FIRST + READ_REQUESTS) * 4)),
    results: new Int32Array(new SharedArrayBuffer(READ_REQUESTS * RESULT_WORDS * 4)),
    digests: new Uint8Array(new SharedArrayBuffer(READ_REQUESTS * DIGEST_TEXT)),
  };
}

/** The destination's side of the ring. */
export class ReadRequests {
  #asked = 0;
  /** The request number of each read-back asked for and not yet taken, by file. */
  #backs = new Map<number, number>();

  constructor(private readonly memory: ReadRequestsMemory) {}

  /** Asks for `file` (a small one), in the order the destination will copy. */
  ask(file: number): void {
    this.#request(file);
  }

  /** Asks for the copy of `file` (a small one) to be read back, in the order of the Verify. */
  askBack(file: number): void {
    const place = this.#asked % READ_REQUESTS;
    Atomics.store(this.memory.results, place * RESULT_WORDS + STATE, WAITING);
    this.#backs.set(file, this.#asked);
    this.#request(-(file + 1));
  }

  /**
   * What the reader read back of the copy of `file`, once it has (waiting for a read under
   * way); null when it was not asked, not started (the destination then reads it itself),
   * or failed (its own read says why).
   */
  async readBack(file: number): Promise<ReadBackResult | null> {
    const asked = this.#backs.get(file);
    if (asked === undefined) return null;
    this.#backs.delete(file);
    const place = asked % READ_REQUESTS;
    const { ring, results, digests } = this.memory;
    if (Atomics.load(ring, FIRST + place) !== -(file + 1)) return null;
    const at = place * RESULT_WORDS;
    if (Atomics.compareExchange(results, at + STATE, WAITING, CANCELLED) === WAITING) return null;
    if (Atomics.load(results, at + STATE) === READING) {
      await changedFrom(results, at + STATE, READING, READ_BACK_WAIT_MS);
    }
    if (Atomics.load(results, at + STATE) !== READ) return null;
    return {
      digest: takeDigestText(digests, place * DIGEST_TEXT, results[at + DIGEST_LENGTH]),
      bytes: results[at + BYTES],
      dropped: results[at + DROPPED] === 1,
    };
  }

  /** No more requests: the reader ends. */
  end(): void {
    Atomics.store(this.memory.ring, ENDED, 1);
    Atomics.notify(this.memory.ring, ASKED);
  }

  #request(word: number): void {
    const { ring } = this.memory;
    Atomics.store(ring, FIRST + this.#asked % READ_REQUESTS, word);
    Atomics.store(ring, ASKED, ++this.#asked);
    Atomics.notify(ring, ASKED);
  }
}

/** What the reader's thread is given, once. */
export interface SourceReaderJob {
  /** Absolute source root, on a local file system. */
  source: string;
  /** Absolute destination root, where copies are read back. */
  destination: string;
  files: SharedFileTable;
  chunks: { memory: SharedChunksMemory; destination: number };
  requests: ReadRequestsMemory;
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
  const { ring } = job.requests;
  const sourceOf = (file: number) => toNative(job.source, files.path(file));
  const copyOf = (file: number) => toNative(job.destination, files.path(file));
  /** The read-backs whose pages were dropped when their read-ahead started, by ring place. */
  const dropped = new Uint8Array(READ_REQUESTS);
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
      const place = started % READ_REQUESTS;
      const word = ring[FIRST + place];
      if (word >= 0) libc.readAhead(sourceOf(word), false);
      else dropped[place] = libc.readAhead(copyOf(-word - 1), true) === "dropped" ? 1 : 0;
    }
    const place = served % READ_REQUESTS;
    const word = ring[FIRST + place];
    served++;
    if (word < 0) {
      const file = -word - 1;
      const copy = { file: copyOf(file), size: files.sizes[file], dropped: dropped[place] === 1 };
      await readBack(libc, copy, place, job, buffer, hasher);
      continue;
    }
    const file = word;
    const size = files.sizes[file];
    if (size === 0 || size >= SMALL_CHUNK) continue;
    const claim = chunks.claim(file, 0, size);
    if (!claim) continue;
    hasher.init();
    await readAheadForCopy(sourceOf(file), fileAt(files, file), buffer, hasher, claim);
  }
}

/**
 * Reads back a copy (`file`, of `size` bytes as scanned) for the destination, whole, from the
 * disk: its pages were dropped when its read-ahead started (`dropped`), or are dropped now.
 * Leaves its digest, byte count and whether it was dropped at `place`, or FAILED for the
 * destination's own read to tell why. One the destination took back meanwhile is skipped.
 */
async function readBack(
  libc: Libc,
  { file, size, dropped }: { file: string; size: number; dropped: boolean },
  place: number,
  job: SourceReaderJob,
  buffer: Uint8Array,
  hasher: Hasher,
): Promise<void> {
  const { results, digests } = job.requests;
  const at = place * RESULT_WORDS;
  if (Atomics.compareExchange(results, at + STATE, WAITING, READING) !== WAITING) return;
  let state = FAILED;
  try {
    const read = await libc.readWhole(file, buffer, size, {
      local: true,
      drop: !dropped,
      ahead: true,
      noatime: true,
    });
    if (read && read.bytes === read.size && read.bytes < buffer.length) {
      hasher.init();
      hasher.update(buffer.subarray(0, read.bytes));
      const digest = hasher.digest();
      putDigestText(digests, place * DIGEST_TEXT, digest);
      results[at + DIGEST_LENGTH] = digest.length;
      results[at + BYTES] = read.bytes;
      results[at + DROPPED] = dropped || read.dropped ? 1 : 0;
      state = READ;
    }
  } finally {
    Atomics.store(results, at + STATE, state);
    Atomics.notify(results, at + STATE);
  }
}

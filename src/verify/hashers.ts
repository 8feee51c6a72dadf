/**
 * The content hashes of fanout's records and checks: SHA-256 by default, xxh128 or BLAKE3 on
 * request (`--hash`). Every hasher streams: it is fed chunk by chunk, never a whole file.
 */
import { createHash, type Hash, type IHasher, loadHashWasm } from "../deps.ts";
import { collectGarbage } from "../heap.ts";
import { libcAtHand } from "../libc.ts";

export type HashAlgorithm = "sha256" | "xxh128" | "blake3";

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["sha256", "xxh128", "blake3"];

/** Hex digits of each algorithm's digest (BLAKE3 at its default 32 bytes, as b3sum prints). */
export const DIGEST_LENGTH: Readonly<Record<HashAlgorithm, number>> = {
  sha256: 64,
  xxh128: 32,
  blake3: 64,
};

/** Room for the longest hex digest of any algorithm (SHA-256, BLAKE3). */
export const LONGEST_DIGEST = Math.max(...Object.values(DIGEST_LENGTH));

/** A digest copied out of shared memory to be decoded: a TextDecoder reads no shared memory. */
const digestCopy = new Uint8Array(LONGEST_DIGEST);
/** Hex digits are ASCII: UTF-8 decodes them as they are, and fastest. */
const ascii = new TextDecoder();

/**
 * Puts hex `digest` into `into` from `at`, a byte a digit, for another thread to take
 * (takeDigestText): memory shared between threads holds no strings.
 */
export function putDigestText(into: Uint8Array, at: number, digest: string): void {
  for (let i = 0; i < digest.length; i++) into[at + i] = digest.charCodeAt(i);
}

/** The hex digest of `length` digits that putDigestText put into `from` at `at`. */
export function takeDigestText(from: Uint8Array, at: number, length: number): string {
  const text = digestCopy.subarray(0, length);
  text.set(from.subarray(at, at + length));
  return ascii.decode(text);
}

/** A whole digest of each algorithm in lowercase hex, as records hold them. */
export const DIGEST_PATTERN = Object.fromEntries(
  HASH_ALGORITHMS.map((hash) => [hash, new RegExp(`^[0-9a-f]{${DIGEST_LENGTH[hash]}}$`)]),
) as Readonly<Record<HashAlgorithm, RegExp>>;

/** A digest and the algorithm that made it: digests of two algorithms never compare. */
export interface ContentHash {
  hash: HashAlgorithm;
  /** Lowercase hex. */
  digest: string;
}

/**
 * A digest as the records and the `--json` events carry it: one field named for its algorithm
 * (`sha256`, `xxh128` or `blake3`), so records made before `--hash` existed read the same.
 */
export type DigestField = { [A in HashAlgorithm]?: string };

/**
 * The field for `digest`, or none without one.
 *
 * @example
 * digestField("xxh128", "99aa…"); // { xxh128: "99aa…" }
 */
export function digestField(hash: HashAlgorithm, digest: string | undefined): DigestField {
  return digest === undefined ? {} : { [hash]: digest };
}

export interface Hasher {
  readonly algorithm: HashAlgorithm;
  /** Starts over, ready for the next file; a new hasher is ready without it. */
  init(): void;
  update(chunk: Uint8Array): void;
  /** Lowercase hex digest of what was fed since the hasher was made or last initialized. */
  digest(): string;
}

/**
 * A streaming SHA-256 (node:crypto), ready at once. node:crypto's hash cannot start over:
 * each file gets a new one, made at its first bytes (a file taken whole from another
 * destination's read, with its digest, never needs one), and what it keeps outside V8's
 * heap is collected every HASHES_PER_COLLECTION.
 */
export function sha256Hasher(): Hasher {
  let hash: Hash | null = null;
  return {
    algorithm: "sha256",
    init: () => void (hash = null),
    update: (chunk) => void (hash ??= newSha256()).update(chunk),
    digest: () => {
      const digest = (hash ?? newSha256()).digest("hex");
      hash = null;
      return digest;
    },
  };
}

/**
 * SHA-256 hashes made by this thread between two full collections of its heap, which free
 * what each kept outside it (collectGarbage): about 2.5 MiB. 100,000 small files to three
 * destinations peaked at 209-212 MiB with a collection every 8,192 hashes, 213-225 MiB every
 * 16,384 and 233-234 MiB with none but V8's own (2 runs each), for 0.3 to 1 s more of the
 * run's 28 to 30 s of CPU time.
 */
const HASHES_PER_COLLECTION = 8192;
let hashesMade = 0;

function newSha256(): Hash {
  if (++hashesMade % HASHES_PER_COLLECTION === 0) collectGarbage();
  return createHash("sha256");
}

/**
 * A hasher for `algorithm`. hash-wasm's (xxh128, BLAKE3) take a WebAssembly instance each,
 * which is why a hasher is made once per slot and reused through `init` (see HasherPool).
 *
 * @example
 * const hasher = await createHasher("blake3");
 * hasher.update(new TextEncoder().encode("a"));
 * hasher.digest(); // "17762fdd…"
 */
export async function createHasher(algorithm: HashAlgorithm): Promise<Hasher> {
  if (algorithm === "sha256") return sha256Hasher();
  const { createBLAKE3, createXXHash128 } = await loadHashWasm();
  const wasm: IHasher = algorithm === "xxh128" ? await createXXHash128() : await createBLAKE3();
  return {
    algorithm,
    init: () => void wasm.init(),
    update: (chunk) => void wasm.update(chunk),
    digest: () => wasm.digest("hex"),
  };
}

/** Hashers lent to the slots that read files: made when first needed, then reused. */
export class HasherPool {
  #idle = new Map<HashAlgorithm, Hasher[]>();

  /**
   * Lends an initialized hasher for `algorithm` to `use`, and takes it back after.
   *
   * @example
   * const { digest } = await pool.lend("xxh128", (h) => digestFile("/ssd/a.jpg", buffer, h));
   */
  async lend<T>(algorithm: HashAlgorithm, use: (hasher: Hasher) => Promise<T>): Promise<T> {
    const hasher = await this.take(algorithm);
    try {
      return await use(hasher);
    } finally {
      this.give(hasher);
    }
  }

  /**
   * An initialized hasher for `algorithm`, to be given back (`give`): at once when one is at
   * hand (takeNow), else the promise of a new one.
   */
  take(algorithm: HashAlgorithm): Hasher | Promise<Hasher> {
    return this.takeNow(algorithm) ?? createHasher(algorithm);
  }

  /**
   * An initialized hasher for `algorithm` at once, to be given back (`give`); null if one is
   * still to be made, which for hash-wasm's takes a wait (see createHasher).
   */
  takeNow(algorithm: HashAlgorithm): Hasher | null {
    const hasher = this.#idle.get(algorithm)?.pop() ??
      (algorithm === "sha256" ? sha256Hasher() : null);
    hasher?.init();
    return hasher;
  }

  /** Takes back a hasher lent (take, takeNow). */
  give(hasher: Hasher): void {
    const idle = this.#idle.get(hasher.algorithm);
    if (idle) idle.push(hasher);
    else this.#idle.set(hasher.algorithm, [hasher]);
  }
}

/** The digest of a text (UTF-8) with a fresh or initialized `hasher`. */
export function digestText(hasher: Hasher, text: string): string {
  hasher.update(new TextEncoder().encode(text));
  return hasher.digest();
}

/** Chunk size of every streaming read, per slot. */
export const CHUNK_SIZE = 1 << 20;

/**
 * Hashes a file with an initialized `hasher` by streaming it through `buffer`; `pace` is
 * awaited after each chunk. The read after a short one, which nearly always only hears of
 * the end, is a synchronous call: the end of a file is known without a disk read, and the
 * call costs less than an asynchronous one. With `local` (a file just written on a local
 * file system, whose entry is in memory) the file is opened synchronously too, and one
 * expected to be `size` bytes, fewer than the buffer holds, is read whole in plain libc
 * calls where libc is at hand (Linux), sparing Deno's checks of its path, and leaving its
 * access time as the copy set it (`noatime`). With `drop`, the file's pages are dropped from
 * the page cache first, so that the read comes from the disk: by `drop` itself before a
 * stream, and through the file opened for the read when it is read whole. `dropped` tells
 * whether they were. A file `ahead` was read ahead (Libc.readAhead) after its pages were
 * dropped: read whole, it is read in a plain call and was dropped.
 *
 * @example
 * const { digest, bytes } = await digestFile("/dest/a.jpg", new Uint8Array(CHUNK_SIZE), hasher);
 */
export async function digestFile(
  file: string,
  buffer: Uint8Array,
  hasher: Hasher,
  pace?: (bytes: number) => Promise<void> | undefined,
  { local = false, size, drop, ahead = false, fd }: {
    local?: boolean;
    size?: number;
    drop?: (file: string) => boolean;
    ahead?: boolean;
    /** `file` open since its read-ahead (Libc.openAhead), read from it; the caller closes it. */
    fd?: number;
  } = {},
): Promise<{ digest: string; bytes: number; dropped: boolean }> {
  if (local && size !== undefined && size < buffer.length) {
    const read = await libcAtHand()?.readWhole(file, buffer, size, {
      local,
      drop: drop !== undefined && !ahead,
      ahead,
      noatime: true,
      fd,
    });
    // Whole if it read as many bytes as the file then held; if not (or on an error, for Deno
    // to tell), the file is streamed from its start.
    if (read && read.bytes === read.size) {
      hasher.update(buffer.subarray(0, read.bytes));
      const paced = pace?.(read.bytes);
      if (paced) await paced;
      return { digest: hasher.digest(), bytes: read.bytes, dropped: ahead || read.dropped };
    }
  }
  const dropped = drop?.(file) ?? false;
  let bytes = 0;
  using handle = local
    ? Deno.openSync(file, { read: true })
    : await Deno.open(file, { read: true });
  let short = false;
  for (;;) {
    const n: number | null = short ? handle.readSync(buffer) : await handle.read(buffer);
    if (n === null) break;
    hasher.update(buffer.subarray(0, n));
    bytes += n;
    await pace?.(n);
    short = n < buffer.length;
  }
  return { digest: hasher.digest(), bytes, dropped };
}

/**
 * SharedChunks: the source's chunks as the destinations read them, kept in shared memory
 * for a while, so that with several destinations the source is read once rather than once
 * per destination, even where the page cache cannot keep a chunk until the next destination
 * asks for it (a machine short of memory, a source much bigger than the memory).
 *
 * A destination that needs a chunk nobody has read claims a slot for it, reads the source and
 * fills the slot, if some other destination has yet to pass that chunk; the others copy the
 * chunk from there. One that comes while the chunk is still being read waits for that read
 * (it would otherwise read the same bytes from the same source itself), but only for four
 * times as long as a read of a claimed chunk of its size takes as a rule (50 ms to
 * FILL_WAIT_MS, and FILL_WAIT_MS until one has been timed): a reader whose thread is held up
 * elsewhere, say in a write to a slow disk, holds up no one for long. Nobody ever waits for
 * anything else. A destination far behind the others finds their chunks replaced and reads
 * the source itself, claiming only what one behind it still needs, so a slow destination
 * never holds back a fast one nor crowds out its chunks; destinations that fell behind
 * together share among themselves.
 *
 * The memory is two pools of slots, one chunk a slot: small slots for small files, read whole,
 * and CHUNK_SIZE slots for the chunks of big ones. A small file may live in one set of WAYS
 * small slots, chosen by a hash of its index; a big file's chunk in any large slot (their
 * few dozen are looked over for each MiB read). A new chunk takes a slot that every
 * destination that wanted it has taken, or else the oldest. Each slot has a lock word, changed
 * only through Atomics: 0 when free, n > 0 while n readers copy from it, −1 while its writer
 * fills it. A reader pins a slot (compareExchange n → n + 1), checks under the pin that it
 * holds the chunk, copies it and unpins it (sub); a writer claims only a slot nobody pins
 * (compareExchange 0 → −1) and gives it back with a store of 0. In the ECMAScript memory model
 * those atomic operations order the plain copies between them (the store of 0 synchronizes
 * with the compareExchange that reads it), on ARM as on x86: a chunk is never read while it is
 * written, and a reader sees all of what its writer wrote.
 */
import { changedFrom } from "../concurrency.ts";
import { CHUNK_SIZE, LONGEST_DIGEST, putDigestText, takeDigestText } from "../verify/hashers.ts";

/** Slots of one size. Every typed array is on a SharedArrayBuffer. */
interface PoolMemory {
  slotBytes: number;
  /** Slots a chunk may live in: a set of them, or all of the pool. */
  ways: number;
  /** FIELDS Int32 words per slot: lock, file, length, checked, stamp, wanted, digest. */
  meta: Int32Array;
  /** The offset in its file of each slot's chunk. */
  offsets: Float64Array;
  data: Uint8Array;
  /** Each slot's DIGEST_TEXT bytes: the hex digest of a whole file, as its reader hashed it. */
  digests: Uint8Array;
  /**
   * How long a claimed chunk of this pool takes to be filled (its read) as a rule: a running
   * mean in µs, begun by the first fill.
   */
  fillMicros: Int32Array;
}

/** What the destinations share, made once by the coordinator and posted to every worker. */
export interface SharedChunksMemory {
  destinations: number;
  /**
   * How far each destination got in each file (destination × files + file): the SMALL_CHUNK
   * units from the file's start it has passed, or −1 once it will not read the file again.
   */
  progress: Int32Array;
  /** Counts the chunks filled, to tell the oldest slot of a set. */
  clock: Int32Array;
  /** 1 for each small file whose read ahead (posix_fadvise WILLNEED) a destination started. */
  aheads: Uint8Array;
  pools: PoolMemory[];
}

const LOCK = 0;
const FILE = 1;
const LENGTH = 2;
const CHECKED = 3;
const STAMP = 4;
/** How many other destinations had yet to pass the chunk when it was filled, less those that took it. */
const WANTED = 5;
/** The length of the hex digest kept with a whole file's chunk; 0 without one. */
const DIGEST = 6;
const FIELDS = 7;
/** Room for the longest hex digest. */
const DIGEST_TEXT = LONGEST_DIGEST;

/**
 * The place in the set from `first` of its oldest slot not `tried` yet, which it marks: a
 * slot every destination that wanted its chunk has taken counts as older than any other.
 * Stamps and wants are read without a lock: hints for the choice, not facts.
 */
function oldestUntried(meta: Int32Array, first: number, ways: number, tried: Uint8Array): number {
  let oldest = -1;
  let oldestAge = Infinity;
  for (let k = 0; k < ways; k++) {
    if (tried[k] === 1) continue;
    const at = (first + k) * FIELDS;
    const age = meta[at + STAMP] - (meta[at + WANTED] <= 0 ? 0x40000000 : 0);
    if (age < oldestAge) {
      oldest = k;
      oldestAge = age;
    }
  }
  tried[oldest] = 1;
  return oldest;
}

/** Small slots a small file may live in. */
const WAYS = 8;
/** The small slots: a small file is read whole into a buffer of this size (64 KiB). */
export const SMALL_CHUNK = 64 * 1024;
/** The longest a destination waits for another's read of a chunk before it reads itself. */
export const FILL_WAIT_MS = 1000;
/** The least it waits, however fast the reads have been. */
export const FILL_WAIT_MIN_MS = 50;

/** How many chunks the destinations share, and of what size. */
export interface SharedChunksSize {
  /** Slots of SMALL_CHUNK bytes. */
  small: number;
  /** Slots of CHUNK_SIZE bytes. */
  large: number;
}

/**
 * 512 small slots (32 MiB) and 64 large ones (64 MiB): how far apart the destinations may be
 * and still share (measured with 3 destinations in 400 MiB of memory, README "Speed"). Memory
 * is taken only as slots are filled; a run of small files fills only the first pages of each
 * small slot, and never touches the large ones.
 */
export const SHARED_CHUNKS_SIZE: SharedChunksSize = { small: 512, large: 64 };

/**
 * The shared memory for `destinations` destinations of a source of `files` files.
 *
 * @example
 * const memory = sharedChunksMemory(3, table.paths.length);
 * // posted to each destination's worker, which opens it with new SharedChunks(memory, i)
 */
export function sharedChunksMemory(
  destinations: number,
  files: number,
  size: SharedChunksSize = SHARED_CHUNKS_SIZE,
): SharedChunksMemory {
  const pool = (slotBytes: number, count: number, ways: number): PoolMemory => {
    const slots = Math.max(ways, Math.ceil(count / ways) * ways);
    const meta = new Int32Array(new SharedArrayBuffer(slots * FIELDS * 4));
    // No chunk of file -1: an empty slot never matches.
    for (let slot = 0; slot < slots; slot++) meta[slot * FIELDS + FILE] = -1;
    return {
      slotBytes,
      ways,
      meta,
      offsets: new Float64Array(new SharedArrayBuffer(slots * 8)),
      data: new Uint8Array(new SharedArrayBuffer(slots * slotBytes)),
      digests: new Uint8Array(new SharedArrayBuffer(slots * DIGEST_TEXT)),
      fillMicros: new Int32Array(new SharedArrayBuffer(4)),
    };
  };
  return {
    destinations,
    progress: new Int32Array(new SharedArrayBuffer(destinations * files * 4)),
    clock: new Int32Array(new SharedArrayBuffer(4)),
    aheads: new Uint8Array(new SharedArrayBuffer(files)),
    pools: [pool(SMALL_CHUNK, size.small, WAYS), pool(CHUNK_SIZE, size.large, size.large)],
  };
}

/** What `take` found: nothing, a chunk, or a whole file its reader checked was unchanged. */
export type Taken = "none" | "chunk" | "checked";

/**
 * What `obtain` found: a chunk taken (a whole file with the digest its reader made of it,
 * when the reader sent one), or else what to do with this destination's read.
 */
export type Obtained =
  | { taken: "chunk" | "checked"; digest: string | null }
  | { taken: "none"; claim: Claim | null };

/** A slot claimed for a chunk this destination reads now: filled with it, or given up. */
export interface Claim {
  /**
   * The chunk as read, of the claimed length; `checked` when it is the whole file and the
   * source was found unchanged after it was read, and then perhaps its `digest` (hex, by the
   * run's hash), which spares the others hashing the same bytes again.
   */
  fill(chunk: Uint8Array, checked?: boolean, digest?: string): void;
  /** The chunk could not be read: whoever waits for it reads for itself. */
  abandon(): void;
}

/** One destination's view of the shared chunks; all of them see the same memory. */
export class SharedChunks {
  readonly #memory: SharedChunksMemory;
  /** This destination's number, from 0. */
  readonly #self: number;
  readonly #files: number;
  /** Which slots of a set `claim` tried, by their place in it. */
  readonly #tried: Uint8Array;

  constructor(memory: SharedChunksMemory, self: number) {
    this.#memory = memory;
    this.#self = self;
    this.#files = memory.progress.length / memory.destinations;
    this.#tried = new Uint8Array(Math.max(...memory.pools.map((pool) => pool.ways)));
  }

  /**
   * True for the first destination to start `file`'s read ahead, false for the others: the
   * pages are in memory or on their way once one has, however many destinations read them.
   */
  firstAhead(file: number): boolean {
    return Atomics.compareExchange(this.#memory.aheads, file, 0, 1) === 0;
  }

  /**
   * Copies the chunk of `file` at `offset` that fills `into` exactly, if another destination
   * read it and it is still here, or is being read now (then after that read). "checked"
   * when it is the whole file, filled after its reader found the source unchanged since the
   * scan.
   *
   * @example
   * if (await chunks.take(7, 0, buffer.subarray(0, size)) === "none") { ... read ... }
   */
  async take(file: number, offset: number, into: Uint8Array): Promise<Taken> {
    return (await this.#take(file, offset, into)).taken;
  }

  /** `take`, and the digest that came with a whole file. */
  async #take(
    file: number,
    offset: number,
    into: Uint8Array,
  ): Promise<{ taken: "none" } | { taken: "chunk" | "checked"; digest: string | null }> {
    const none = { taken: "none" as const };
    const pool = this.#pool(into.length);
    if (!pool) return none;
    const { meta, data, slotBytes, digests } = pool;
    for (let waited = false;;) {
      const slot = this.#find(pool, file, offset, into.length, -1);
      if (slot === -1) return none;
      const at = slot * FIELDS;
      if (pin(meta, at)) {
        try {
          if (!holds(pool, slot, file, offset, into.length)) return none;
          into.set(data.subarray(slot * slotBytes, slot * slotBytes + into.length));
          Atomics.sub(meta, at + WANTED, 1);
          if (meta[at + CHECKED] !== 1) return { taken: "chunk", digest: null };
          const length = meta[at + DIGEST];
          if (length === 0) return { taken: "checked", digest: null };
          return { taken: "checked", digest: takeDigestText(digests, slot * DIGEST_TEXT, length) };
        } finally {
          Atomics.sub(meta, at + LOCK, 1);
        }
      }
      // Its writer has the slot: the chunk is being read now.
      if (waited) return none;
      waited = true;
      await changedFrom(meta, at + LOCK, -1, waitLimit(pool));
    }
  }

  /**
   * The chunk of `file` at `offset` that fills `into`, taken from another destination's read
   * (after it, if it is under way), or else a claim on it for this destination's read: null
   * when no other destination needs it.
   *
   * @example
   * const got = await chunks.obtain(7, 0, chunk);
   * if (got.taken === "none") { ... read into chunk ...; got.claim?.fill(chunk); }
   */
  async obtain(file: number, offset: number, into: Uint8Array): Promise<Obtained> {
    const found = await this.#take(file, offset, into);
    if (found.taken !== "none") return found;
    const claim = this.claim(file, offset, into.length);
    if (claim) return { taken: "none", claim };
    // Perhaps another destination claimed it at the same moment: its read is enough.
    const late = await this.#take(file, offset, into);
    return late.taken === "none" ? { taken: "none", claim: null } : late;
  }

  /**
   * Claims a slot for the chunk of `file` at `offset` (`length` bytes) that this destination
   * is about to read, so that the others take it rather than read it too. Null when every
   * other destination has passed the chunk (or will not read the file), when another
   * destination claimed the same chunk at the same moment (`take` it, then), or when every
   * slot of the chunk's set is in use.
   */
  claim(file: number, offset: number, length: number): Claim | null {
    const pool = this.#pool(length);
    if (!pool || this.#wanted(file, offset) === 0) return null;
    const { clock } = this.#memory;
    const { meta, offsets, data, slotBytes, digests, fillMicros } = pool;
    const first = this.#firstSlot(pool, file, offset);
    const wanted = () => this.#wanted(file, offset);
    // The set's slots from the oldest on, until one is free.
    const { ways } = pool;
    const tried = this.#tried.fill(0, 0, ways);
    for (let attempt = 0; attempt < ways; attempt++) {
      const slot = first + oldestUntried(meta, first, ways, tried);
      const at = slot * FIELDS;
      if (Atomics.compareExchange(meta, at + LOCK, 0, -1) !== 0) continue;
      meta[at + FILE] = file;
      offsets[slot] = offset;
      meta[at + LENGTH] = length;
      const claimed = performance.now();
      const give = () => {
        Atomics.store(meta, at + LOCK, 0);
        Atomics.notify(meta, at + LOCK);
      };
      const claim: Claim = {
        fill(chunk, checked = false, digest = "") {
          if (chunk.length !== length || digest.length > DIGEST_TEXT) {
            claim.abandon();
            throw new RangeError(
              chunk.length !== length
                ? `a claim of ${length} bytes was filled with ${chunk.length}`
                : `a digest of ${digest.length} characters does not fit a slot`,
            );
          }
          data.set(chunk, slot * slotBytes);
          meta[at + CHECKED] = checked ? 1 : 0;
          const kept = checked ? digest.length : 0;
          if (kept > 0) putDigestText(digests, slot * DIGEST_TEXT, digest);
          meta[at + DIGEST] = kept;
          meta[at + WANTED] = wanted();
          meta[at + STAMP] = Atomics.add(clock, 0, 1);
          // A racy update of a mean loses a sample now and then, which does not matter.
          const mean = Atomics.load(fillMicros, 0);
          const micros = Math.max(1, Math.round((performance.now() - claimed) * 1000));
          Atomics.store(
            fillMicros,
            0,
            mean === 0 ? micros : Math.round(mean + (micros - mean) / 8),
          );
          give();
        },
        abandon() {
          meta[at + FILE] = -1;
          give();
        },
      };
      // Another destination claimed the same chunk just now: one read of it is enough.
      if (this.#find(pool, file, offset, length, slot) !== -1) {
        claim.abandon();
        return null;
      }
      return claim;
    }
    return null;
  }

  /** This destination has the chunk of `file` at `offset` (taken or read). */
  passed(file: number, offset: number): void {
    Atomics.store(this.#memory.progress, this.#at(file), Math.floor(offset / SMALL_CHUNK) + 1);
  }

  /** This destination will not read `file` again (copied, failed, or not to be copied). */
  release(file: number): void {
    Atomics.store(this.#memory.progress, this.#at(file), -1);
  }

  /** This destination reads no file any more (its copying ended, or it failed). */
  releaseAll(): void {
    for (let file = 0; file < this.#files; file++) this.release(file);
  }

  /** How many other destinations have yet to pass the chunk of `file` at `offset`. */
  #wanted(file: number, offset: number): number {
    const { progress, destinations } = this.#memory;
    const unit = Math.floor(offset / SMALL_CHUNK);
    let wanted = 0;
    for (let other = 0; other < destinations; other++) {
      if (other === this.#self) continue;
      const passed = Atomics.load(progress, other * this.#files + file);
      if (passed >= 0 && passed <= unit) wanted++;
    }
    return wanted;
  }

  #at(file: number): number {
    return this.#self * this.#files + file;
  }

  /**
   * The slot of the chunk's set that holds it, other than `besides` (at a glance, without a
   * lock), or -1.
   */
  #find(pool: PoolMemory, file: number, offset: number, length: number, besides: number): number {
    const first = this.#firstSlot(pool, file, offset);
    for (let slot = first; slot < first + pool.ways; slot++) {
      if (slot !== besides && holds(pool, slot, file, offset, length)) return slot;
    }
    return -1;
  }

  /** The pool whose slots hold chunks of `length` bytes, or null for a chunk too big. */
  #pool(length: number): PoolMemory | null {
    return this.#memory.pools.find((pool) => length <= pool.slotBytes) ?? null;
  }

  /** The first slot of the set where the chunk of `file` at `offset` may live. */
  #firstSlot(pool: PoolMemory, file: number, offset: number): number {
    const sets = pool.offsets.length / pool.ways;
    // Offsets are multiples of a buffer's length; their SMALL_CHUNK number tells them apart.
    const unit = Math.floor(offset / SMALL_CHUNK) % 0x100000000;
    const hash = (Math.imul(file, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca77)) >>> 0;
    return (hash % sets) * pool.ways;
  }
}

/** Whether `slot` holds the chunk of `file` at `offset` of `length` bytes. */
function holds(
  { meta, offsets }: PoolMemory,
  slot: number,
  file: number,
  offset: number,
  length: number,
): boolean {
  const at = slot * FIELDS;
  return meta[at + FILE] === file && meta[at + LENGTH] === length && offsets[slot] === offset;
}

/**
 * How long to wait for a chunk of `pool` being read: 4 times as long as its reads take as a
 * rule, FILL_WAIT_MS before the first has been timed.
 */
function waitLimit({ fillMicros }: PoolMemory): number {
  const mean = Atomics.load(fillMicros, 0) / 1000;
  return mean === 0 ? FILL_WAIT_MS : Math.min(FILL_WAIT_MS, Math.max(FILL_WAIT_MIN_MS, 4 * mean));
}

/** Pins the slot whose lock is at `at` for reading; false while its writer has it. */
function pin(meta: Int32Array, at: number): boolean {
  for (;;) {
    const readers = Atomics.load(meta, at + LOCK);
    if (readers < 0) return false;
    if (Atomics.compareExchange(meta, at + LOCK, readers, readers + 1) === readers) return true;
  }
}

/**
 * The bytes each copy took from other destinations' reads, by file index, in little memory:
 * a file taken whole (the usual case, and every small file's) is one byte of a column, and
 * only files taken in part (big ones, few) are kept in a map.
 */
export class TakenColumn {
  #whole: Uint8Array;
  #parts = new Map<number, number>();

  constructor(count: number) {
    this.#whole = new Uint8Array(count);
  }

  /** Copy `index`, of `size` bytes, took `taken` of them from the others' reads. */
  set(index: number, size: number, taken: number): void {
    this.#whole[index] = taken === size && size > 0 ? 1 : 0;
    if (taken > 0 && taken < size) this.#parts.set(index, taken);
    else this.#parts.delete(index);
  }

  /** What copy `index`, of `size` bytes, took from the others' reads. */
  get(index: number, size: number): number {
    return this.#whole[index] === 1 ? size : this.#parts.get(index) ?? 0;
  }
}

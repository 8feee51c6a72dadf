/**
 * SharedChunks: the source's chunks as the destinations read them, kept in shared memory
 * for a while, so that with several destinations the source is read once rather than once
 * per destination, even where the page cache cannot keep a chunk until the next destination
 * asks for it (a machine short of memory, a source much bigger than the memory).
 *
 * The first destination to need a chunk claims a slot for it, reads the source and fills the
 * slot; the others copy the chunk from there. One that comes while the chunk is still being
 * read waits for that read (it would otherwise read the same bytes from the same source
 * itself), for FILL_WAIT_MS at most. Nobody ever waits for anything else: a destination far
 * behind the others finds its chunks long replaced and reads the source itself, without
 * claiming, so a slow destination never holds back a fast one nor crowds out its chunks.
 *
 * The memory is two pools of slots, one chunk a slot: small slots for small files, read whole,
 * and CHUNK_SIZE slots for the chunks of big ones. A small file may live in one set of WAYS
 * small slots, chosen by a hash of its index; a big file's chunk in any large slot (their
 * few dozen are looked over for each MiB read). A new chunk takes a slot that every other
 * destination has taken already, or else the oldest. Each slot has a lock word, changed only
 * through Atomics: 0 when free, n > 0 while n readers copy from it, −1 while its writer fills
 * it. A reader pins a slot (compareExchange n → n + 1), checks under the pin that it holds the
 * chunk, copies it and unpins it (sub); a writer claims only a slot nobody pins
 * (compareExchange 0 → −1) and gives it back with a store of 0. In the ECMAScript memory model
 * those atomic operations order the plain copies between them (the store of 0 synchronizes
 * with the compareExchange that reads it), on ARM as on x86: a chunk is never read while it is
 * written, and a reader sees all of what its writer wrote.
 */
import { CHUNK_SIZE } from "../verify/hashers.ts";

/** Slots of one size. Every typed array is on a SharedArrayBuffer. */
interface PoolMemory {
  slotBytes: number;
  /** Slots a chunk may live in: a set of them, or all of the pool. */
  ways: number;
  /** FIELDS Int32 words per slot: lock, file, length, checked, stamp, wanted. */
  meta: Int32Array;
  /** The offset in its file of each slot's chunk. */
  offsets: Float64Array;
  data: Uint8Array;
}

/** What the destinations share, made once by the coordinator and posted to every worker. */
export interface SharedChunksMemory {
  /**
   * For each file, how many destinations may still read it. A chunk is claimed only while
   * another destination may still want it.
   */
  readers: Int32Array;
  /**
   * For each file, how far its chunks have been claimed, in SMALL_CHUNK units from its start:
   * a destination that needs a chunk below that is behind the one that claimed it.
   */
  frontier: Int32Array;
  /** Counts the chunks filled, to tell the oldest slot of a set. */
  clock: Int32Array;
  pools: PoolMemory[];
}

const LOCK = 0;
const FILE = 1;
const LENGTH = 2;
const CHECKED = 3;
const STAMP = 4;
/** How many other destinations may still take the chunk. */
const WANTED = 5;
const FIELDS = 6;

/** Small slots a small file may live in. */
const WAYS = 8;
/** The small slots: a small file is read whole into a buffer of this size (64 KiB). */
export const SMALL_CHUNK = 64 * 1024;
/** The longest a destination waits for another's read of a chunk before it reads itself. */
export const FILL_WAIT_MS = 1000;

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
 * // posted to each destination's worker, which opens it with new SharedChunks(memory)
 */
export function sharedChunksMemory(
  destinations: number,
  files: number,
  size: SharedChunksSize = SHARED_CHUNKS_SIZE,
): SharedChunksMemory {
  const readers = new Int32Array(new SharedArrayBuffer(files * 4));
  readers.fill(destinations);
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
    };
  };
  return {
    readers,
    frontier: new Int32Array(new SharedArrayBuffer(files * 4)),
    clock: new Int32Array(new SharedArrayBuffer(4)),
    pools: [pool(SMALL_CHUNK, size.small, WAYS), pool(CHUNK_SIZE, size.large, size.large)],
  };
}

/** What `take` found: nothing, a chunk, or a whole file its reader checked was unchanged. */
export type Taken = "none" | "chunk" | "checked";

/** A slot claimed for a chunk this destination reads now: filled with it, or given up. */
export interface Claim {
  /**
   * The chunk as read, of the claimed length; `checked` when it is the whole file and the
   * source was found unchanged after it was read.
   */
  fill(chunk: Uint8Array, checked?: boolean): void;
  /** The chunk could not be read: whoever waits for it reads for itself. */
  abandon(): void;
}

/** One destination's view of the shared chunks; all of them see the same memory. */
export class SharedChunks {
  readonly #memory: SharedChunksMemory;
  /** Files this destination said it will not read again (`release`). */
  readonly #released: Uint8Array;

  constructor(memory: SharedChunksMemory) {
    this.#memory = memory;
    this.#released = new Uint8Array(memory.readers.length);
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
    const pool = this.#pool(into.length);
    if (!pool) return "none";
    const { meta, data, slotBytes } = pool;
    for (let waited = false;;) {
      const slot = this.#find(pool, file, offset, into.length);
      if (slot === -1) return "none";
      const at = slot * FIELDS;
      if (pin(meta, at)) {
        try {
          if (!holds(pool, slot, file, offset, into.length)) return "none";
          into.set(data.subarray(slot * slotBytes, slot * slotBytes + into.length));
          Atomics.sub(meta, at + WANTED, 1);
          return meta[at + CHECKED] === 1 ? "checked" : "chunk";
        } finally {
          Atomics.sub(meta, at + LOCK, 1);
        }
      }
      // Its writer has the slot: the chunk is being read now.
      if (waited) return "none";
      waited = true;
      await unlocked(meta, at);
    }
  }

  /**
   * Claims a slot for the chunk of `file` at `offset` (`length` bytes) that this destination
   * is about to read, so that the others take it rather than read it too. Null when no other
   * destination wants the file, when another destination claimed this chunk (or one after it)
   * before, as it is then ahead of this one, or when every slot of the chunk's set is in use.
   */
  claim(file: number, offset: number, length: number): Claim | null {
    const { readers, frontier, clock } = this.#memory;
    if (this.#released[file] === 1 || Atomics.load(readers, file) < 2) return null;
    const pool = this.#pool(length);
    if (!pool) return null;
    const unit = Math.floor(offset / SMALL_CHUNK);
    for (let claimed = Atomics.load(frontier, file); claimed <= unit;) {
      const seen = Atomics.compareExchange(frontier, file, claimed, unit + 1);
      if (seen === claimed) return this.#claimSlot(pool, file, offset, length, clock, readers);
      claimed = seen;
    }
    return null;
  }

  /** This destination will not read `file` again (copied, failed, or not to be copied). */
  release(file: number): void {
    if (this.#released[file] === 1) return;
    this.#released[file] = 1;
    Atomics.sub(this.#memory.readers, file, 1);
  }

  /** This destination reads no file any more (its copying ended, or it failed). */
  releaseAll(): void {
    for (let file = 0; file < this.#released.length; file++) this.release(file);
  }

  /**
   * A slot of the chunk's set for it, held for its writer: one that every other destination
   * has taken, or else the oldest; one in use is passed over.
   */
  #claimSlot(
    pool: PoolMemory,
    file: number,
    offset: number,
    length: number,
    clock: Int32Array,
    readers: Int32Array,
  ): Claim | null {
    const { meta, offsets, data, slotBytes } = pool;
    const first = this.#firstSlot(pool, file, offset);
    // Stamps and wants read without a lock: hints for the choice, not facts.
    const age = (slot: number) =>
      meta[slot * FIELDS + STAMP] - (meta[slot * FIELDS + WANTED] <= 0 ? 0x40000000 : 0);
    const order = Array.from({ length: pool.ways }, (_, k) => first + k)
      .sort((a, b) => age(a) - age(b));
    for (const slot of order) {
      const at = slot * FIELDS;
      if (Atomics.compareExchange(meta, at + LOCK, 0, -1) !== 0) continue;
      meta[at + FILE] = file;
      offsets[slot] = offset;
      meta[at + LENGTH] = length;
      const give = () => {
        Atomics.store(meta, at + LOCK, 0);
        Atomics.notify(meta, at + LOCK);
      };
      return {
        fill(chunk, checked = false) {
          if (chunk.length !== length) {
            this.abandon();
            throw new RangeError(`a claim of ${length} bytes was filled with ${chunk.length}`);
          }
          data.set(chunk, slot * slotBytes);
          meta[at + CHECKED] = checked ? 1 : 0;
          meta[at + WANTED] = Atomics.load(readers, file) - 1;
          meta[at + STAMP] = Atomics.add(clock, 0, 1);
          give();
        },
        abandon() {
          meta[at + FILE] = -1;
          give();
        },
      };
    }
    return null;
  }

  /** The slot of the chunk's set that holds it (at a glance, without a lock), or -1. */
  #find(pool: PoolMemory, file: number, offset: number, length: number): number {
    const first = this.#firstSlot(pool, file, offset);
    for (let slot = first; slot < first + pool.ways; slot++) {
      if (holds(pool, slot, file, offset, length)) return slot;
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

/** Pins the slot whose lock is at `at` for reading; false while its writer has it. */
function pin(meta: Int32Array, at: number): boolean {
  for (;;) {
    const readers = Atomics.load(meta, at + LOCK);
    if (readers < 0) return false;
    if (Atomics.compareExchange(meta, at + LOCK, readers, readers + 1) === readers) return true;
  }
}

/** Settles when the writer of the slot whose lock is at `at` gives it back, or FILL_WAIT_MS on. */
async function unlocked(meta: Int32Array, at: number): Promise<void> {
  const wait = Atomics.waitAsync(meta, at + LOCK, -1, FILL_WAIT_MS);
  if (!wait.async) return;
  // The timer keeps the worker's event loop turning meanwhile: a waitAsync alone does not.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([wait.value, new Promise((done) => timer = setTimeout(done, FILL_WAIT_MS))]);
  clearTimeout(timer);
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

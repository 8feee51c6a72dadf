/**
 * FileTable: the source's regular files in columns, one array per field. A card of 100,000
 * files is then 100,000 path strings and a few typed arrays in the coordinator, not 100,000
 * objects. A file is known by its index in the table, in messages too.
 *
 * The typed arrays live in SharedArrayBuffers, and the table goes to the workers as a
 * SharedFileTable, its paths as UTF-8 in one more shared buffer: posting it copies nothing,
 * however many destinations there are. (A posted message's serialized bytes would also stay
 * alive in the worker while it runs: about 40 bytes per file, per destination.) A worker
 * keeps no path strings: it decodes a path from the shared bytes when it needs it, and orders
 * files by path through their ranks, worked out once by the coordinator.
 */
import type { SourceFile } from "./messages.ts";

/** The columns of every table, by file index. */
interface FileColumns {
  sizes: Float64Array;
  mtimes: Float64Array;
  /** Permission bits; -1 where the platform has none (Windows). */
  modes: Int32Array;
  /** 1 for a file with holes, which the copy keeps. */
  sparse: Uint8Array;
}

/** The files as scanned. */
export interface FileTable extends FileColumns {
  /** Relative, "/"-separated paths. */
  paths: string[];
}

/** Collects files one by one (the scan), then hands out the table. */
export class FileTableBuilder {
  #paths: string[] = [];
  #sizes: number[] = [];
  #mtimes: number[] = [];
  #modes: number[] = [];
  #sparse: number[] = [];

  add({ path, size, mtimeMs, mode, sparse }: SourceFile): void {
    this.#paths.push(path);
    this.#sizes.push(size);
    this.#mtimes.push(mtimeMs);
    this.#modes.push(mode ?? -1);
    this.#sparse.push(sparse ? 1 : 0);
  }

  build(): FileTable {
    return {
      paths: this.#paths,
      sizes: shared(Float64Array, this.#sizes),
      mtimes: shared(Float64Array, this.#mtimes),
      modes: shared(Int32Array, this.#modes),
      sparse: shared(Uint8Array, this.#sparse),
    };
  }
}

type TypedArrayOf<T> = { BYTES_PER_ELEMENT: number; new (buffer: SharedArrayBuffer): T };

/** `values` in a typed array of `Kind` on a SharedArrayBuffer of its own. */
function shared<T extends { set(values: ArrayLike<number>): void }>(
  Kind: TypedArrayOf<T>,
  values: ArrayLike<number>,
): T {
  const array = new Kind(new SharedArrayBuffer(values.length * Kind.BYTES_PER_ELEMENT));
  array.set(values);
  return array;
}

/** A FileTable as it is posted to the workers: every column in shared memory. */
export interface SharedFileTable extends FileColumns {
  /** Every path in UTF-8, one after the other. */
  pathBytes: Uint8Array;
  /** Where each path ends in `pathBytes` (whole numbers; no 4 GiB limit). */
  pathEnds: Float64Array;
  /** Each file's place in the order of the paths (as JavaScript compares strings). */
  ranks: Uint32Array;
}

/** The table with its paths in shared memory too, to be posted to any number of workers. */
export function shareFileTable({ paths, ...columns }: FileTable): SharedFileTable {
  const encoder = new TextEncoder();
  const pathEnds = new Float64Array(new SharedArrayBuffer(paths.length * 8));
  // UTF-8 takes at most 3 bytes per UTF-16 unit; the bytes grow in one buffer, then are
  // copied once into shared memory.
  let bytes = new Uint8Array(1024);
  let end = 0;
  paths.forEach((rel, i) => {
    if (bytes.length - end < rel.length * 3) {
      const grown = new Uint8Array(Math.max(2 * bytes.length, end + rel.length * 3));
      grown.set(bytes.subarray(0, end));
      bytes = grown;
    }
    pathEnds[i] = end += encoder.encodeInto(rel, bytes.subarray(end)).written;
  });
  const pathBytes = new Uint8Array(new SharedArrayBuffer(end));
  pathBytes.set(bytes.subarray(0, end));
  const byPath = new Uint32Array(paths.length).map((_, i) => i)
    .sort((a, b) => paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0);
  const ranks = new Uint32Array(new SharedArrayBuffer(paths.length * 4));
  byPath.forEach((index, rank) => ranks[index] = rank);
  return { ...columns, pathBytes, pathEnds, ranks };
}

/** Paths an OpenFileTable keeps decoded (a power of two). */
const PATH_CACHE = 256;

/** The table as a worker reads it: the shared columns, each path decoded when asked for. */
export class OpenFileTable {
  readonly count: number;
  readonly sizes: Float64Array;
  readonly mtimes: Float64Array;
  readonly modes: Int32Array;
  readonly sparse: Uint8Array;
  /** Each file's place in path order: a comes before b by path if its rank is lower. */
  readonly ranks: Uint32Array;
  #bytes: Uint8Array;
  #ends: Float64Array;
  #decoder = new TextDecoder();
  /**
   * The paths decoded last, a place each by index (modulo PATH_CACHE): a worker asks for a
   * file's path several times over as it reads the file ahead, copies it, commits and reads
   * it back, and decoding it again each time made a string each time.
   */
  #cachedIndices = new Int32Array(PATH_CACHE).fill(-1);
  #cachedPaths: string[] = new Array(PATH_CACHE).fill("");

  constructor({ pathBytes, pathEnds, ranks, ...columns }: SharedFileTable) {
    this.count = pathEnds.length;
    this.sizes = columns.sizes;
    this.mtimes = columns.mtimes;
    this.modes = columns.modes;
    this.sparse = columns.sparse;
    this.ranks = ranks;
    this.#bytes = pathBytes;
    this.#ends = pathEnds;
  }

  /** The path of the file at `index` as UTF-8, in place: shared memory, to be copied from. */
  pathBytes(index: number): Uint8Array {
    return this.#bytes.subarray(index === 0 ? 0 : this.#ends[index - 1], this.#ends[index]);
  }

  /** The relative, "/"-separated path of the file at `index`. */
  path(index: number): string {
    const slot = index & (PATH_CACHE - 1);
    if (this.#cachedIndices[slot] === index) return this.#cachedPaths[slot];
    const path = this.#decode(index);
    this.#cachedIndices[slot] = index;
    this.#cachedPaths[slot] = path;
    return path;
  }

  #decode(index: number): string {
    const bytes = this.#bytes;
    const start = index === 0 ? 0 : this.#ends[index - 1];
    const end = this.#ends[index];
    for (let i = start; i < end; i++) {
      // TextDecoder reads no shared memory: a name beyond ASCII is copied out first.
      if (bytes[i] >= 0x80) return this.#decoder.decode(bytes.slice(start, end));
    }
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
}

/** The table a worker works with, from the one the coordinator posted. */
export function openFileTable(shared: SharedFileTable): OpenFileTable {
  return new OpenFileTable(shared);
}

/**
 * A table of `files`, for tests and small callers.
 *
 * @example
 * const table = fileTable([{ path: "a.jpg", size: 3, mtimeMs: 0, mode: 0o644 }]);
 */
export function fileTable(files: Iterable<SourceFile>): FileTable {
  const builder = new FileTableBuilder();
  for (const file of files) builder.add(file);
  return builder.build();
}

/** The file at `index`, as an object (made on demand; do not keep many). */
export function fileAt(table: OpenFileTable, index: number, path = table.path(index)): SourceFile {
  const mode = table.modes[index];
  return {
    path,
    size: table.sizes[index],
    mtimeMs: table.mtimes[index],
    mode: mode === -1 ? null : mode,
    ...(table.sparse[index] === 1 ? { sparse: true } : {}),
  };
}

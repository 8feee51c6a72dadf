/**
 * FileTable: the source's regular files in columns, one array per field. A card of 100,000
 * files is then 100,000 path strings and a few typed arrays, not 100,000 objects, in the
 * coordinator and in every worker. A file is known by its index in the table, in messages
 * too.
 *
 * The typed arrays live in SharedArrayBuffers, and the table goes to the workers as a
 * SharedFileTable, its paths as UTF-8 in one more shared buffer: posting it copies nothing,
 * however many destinations there are. (A posted message's serialized bytes would also stay
 * alive in the worker while it runs: about 40 bytes per file, per destination.)
 */
import type { SourceFile } from "./messages.ts";

export interface FileTable {
  /** Relative, "/"-separated paths. */
  paths: string[];
  sizes: Float64Array;
  mtimes: Float64Array;
  /** Permission bits; -1 where the platform has none (Windows). */
  modes: Int32Array;
  /** 1 for a file with holes, which the copy keeps. */
  sparse: Uint8Array;
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
export interface SharedFileTable extends Omit<FileTable, "paths"> {
  /** Every path in UTF-8, one after the other. */
  pathBytes: Uint8Array;
  /** Where each path ends in `pathBytes` (whole numbers; no 4 GiB limit). */
  pathEnds: Float64Array;
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
  return { ...columns, pathBytes, pathEnds };
}

/** The FileTable a worker works with: its own path strings, the shared typed arrays. */
export function openFileTable({ pathBytes, pathEnds, ...columns }: SharedFileTable): FileTable {
  // TextDecoder reads no shared memory: one private copy, decoded path by path.
  const bytes = pathBytes.slice();
  const decoder = new TextDecoder();
  const paths = new Array<string>(pathEnds.length);
  for (let i = 0, start = 0; i < pathEnds.length; start = pathEnds[i++]) {
    paths[i] = decoder.decode(bytes.subarray(start, pathEnds[i]));
  }
  return { paths, ...columns };
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
export function fileAt(table: FileTable, index: number): SourceFile {
  const mode = table.modes[index];
  return {
    path: table.paths[index],
    size: table.sizes[index],
    mtimeMs: table.mtimes[index],
    mode: mode === -1 ? null : mode,
    ...(table.sparse[index] === 1 ? { sparse: true } : {}),
  };
}

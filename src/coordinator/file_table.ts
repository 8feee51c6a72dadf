/**
 * FileTable: the source's regular files in columns, one array per field. A card of 100,000
 * files is then 100,000 path strings and a few typed arrays, not 100,000 objects, in the
 * coordinator and in every worker; a structured clone copies each typed array as one block.
 * A file is known by its index in the table, in messages too.
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
      sizes: Float64Array.from(this.#sizes),
      mtimes: Float64Array.from(this.#mtimes),
      modes: Int32Array.from(this.#modes),
      sparse: Uint8Array.from(this.#sparse),
    };
  }
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

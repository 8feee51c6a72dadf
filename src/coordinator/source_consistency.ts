import { DigestColumn } from "../verify/digest_column.ts";
import type { ContentHash } from "../verify/hashers.ts";

/**
 * Every destination hashes the bytes it copies of the source, read on its own or taken from
 * another destination's read (SharedChunks). If two of them hashed different bytes for the
 * same file, the source changed (or its reader is flaky) during the run, and no copy of that
 * file can be trusted: the file fails everywhere. Only digests of one algorithm compare: a
 * copy only read back this run reports its record's, which may be of an earlier run's
 * algorithm. Files are known by their index (see FileResult), and the first digest of each is
 * kept as bytes.
 */
export class SourceConsistency {
  /** The first digest of each file. */
  #first: DigestColumn;
  /** First digests of a second algorithm (a rerun with another --hash), by "hash:index". */
  #others = new Map<string, string>();
  #conflicts = new Set<number>();

  /** For files (and links) numbered 0 to `count` - 1. */
  constructor(count: number) {
    this.#first = new DigestColumn(count);
  }

  /**
   * Records the hash one destination read for file `index`. Returns true the first time two
   * hashes of one algorithm disagree; the file is inconsistent from then on.
   *
   * @example
   * const check = new SourceConsistency(10);
   * check.record(3, { hash: "sha256", digest: "aa…" }); // false
   * check.record(3, { hash: "sha256", digest: "bb…" }); // true
   */
  record(index: number, content: ContentHash): boolean {
    if (this.#conflicts.has(index)) return false;
    let agrees: boolean;
    if (!this.#first.has(index)) {
      this.#first.set(index, content);
      return false;
    } else if (this.#first.algorithm(index) === content.hash) {
      agrees = this.#first.holds(index, content);
    } else {
      const key = `${content.hash}:${index}`;
      const first = this.#others.get(key);
      if (first === undefined) this.#others.set(key, content.digest);
      agrees = first === undefined || first === content.digest;
    }
    if (agrees) return false;
    this.#conflicts.add(index);
    return true;
  }

  isInconsistent(index: number): boolean {
    return this.#conflicts.has(index);
  }

  get conflicts(): ReadonlySet<number> {
    return this.#conflicts;
  }
}

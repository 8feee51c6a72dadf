import type { ContentHash } from "../verify/hashers.ts";

/**
 * Every destination reads and hashes the source on its own. If two of them read different
 * bytes for the same file, the source changed (or its reader is flaky) during the run, and
 * no copy of that file can be trusted: the file fails everywhere. Only digests of one
 * algorithm compare: a copy only read back this run reports its record's, which may be of
 * an earlier run's algorithm.
 */
export class SourceConsistency {
  /** The first digest of each path, by algorithm then path. */
  #first = new Map<string, string>();
  #conflicts = new Set<string>();

  /**
   * Records the hash one destination read for `path`. Returns true the first time two
   * hashes of one algorithm disagree; the path is inconsistent from then on.
   *
   * @example
   * const check = new SourceConsistency();
   * check.record("a.jpg", { hash: "sha256", digest: "aa…" }); // false
   * check.record("a.jpg", { hash: "sha256", digest: "bb…" }); // true
   */
  record(path: string, { hash, digest }: ContentHash): boolean {
    const key = `${hash}:${path}`;
    const first = this.#first.get(key);
    if (first === undefined) {
      this.#first.set(key, digest);
      return false;
    }
    if (first === digest || this.#conflicts.has(path)) return false;
    this.#conflicts.add(path);
    return true;
  }

  isInconsistent(path: string): boolean {
    return this.#conflicts.has(path);
  }

  get conflicts(): ReadonlySet<string> {
    return this.#conflicts;
  }
}

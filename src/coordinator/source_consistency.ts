/**
 * Every destination reads and hashes the source on its own. If two of them read different
 * bytes for the same file, the source changed (or its reader is flaky) during the run, and
 * no copy of that file can be trusted: the file fails everywhere.
 */
export class SourceConsistency {
  #first = new Map<string, string>();
  #conflicts = new Set<string>();

  /**
   * Records the hash one destination read for `path`. Returns true the first time the
   * hashes disagree; the path is inconsistent from then on.
   *
   * @example
   * const check = new SourceConsistency();
   * check.record("a.jpg", "aa…"); // false
   * check.record("a.jpg", "bb…"); // true
   */
  record(path: string, sha256: string): boolean {
    const first = this.#first.get(path);
    if (first === undefined) {
      this.#first.set(path, sha256);
      return false;
    }
    if (first === sha256 || this.#conflicts.has(path)) return false;
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

/**
 * A full collection of this thread's V8 heap, on request, for garbage that V8 does not know
 * to collect: what a node:crypto hash keeps outside the heap (300 to 450 bytes) stays until
 * the next full collection, and V8, seeing only the hash's small object, makes none the
 * sooner for it. 100,000 small files to three destinations peaked 20 to 30 MiB higher without
 * these collections (see sha256Hasher). `gc` comes from V8 itself: its `--expose-gc`, set at
 * run time (node:v8), gives it to a context made afterwards (node:vm), so that the run
 * command needs no flag of its own.
 */
import { runInNewContext, setFlagsFromString } from "./deps.ts";

let gc: (() => void) | null = null;

/**
 * Collects this thread's whole heap (8 ms for a small one, in a test).
 *
 * @example
 * if (++hashes % 8192 === 0) collectGarbage();
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

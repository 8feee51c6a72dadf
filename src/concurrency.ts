import { setImmediate } from "./deps.ts";

/**
 * How many folders are listed at once (Deno.readDir): a network share answers each listing
 * after a round trip, and a local disk gains nothing from more.
 */
export const LIST_CONCURRENCY = 8;

/**
 * How long a thread may run on in microtasks and synchronous calls before its event loop gets
 * a turn (nextTurn): timers, signals and messages wait that long at most.
 */
export const TURN_MS = 5;

/** Waits for the event loop's next turn (a macrotask), after whatever is due in it. */
export function nextTurn(): Promise<void> {
  return new Promise((turn) => setImmediate(turn));
}

/**
 * Runs `work` on every item with at most `limit` calls in flight, and resolves when all are
 * done. Items are taken in order; `work` gets the item's index.
 *
 * @example
 * await forEachConcurrently(paths, 8, async (p) => sizes.push((await Deno.lstat(p)).size));
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/**
 * Waits until `array[index]` is no longer `value` (another thread changed it and called
 * Atomics.notify), or until `ms` have passed, without blocking the thread.
 *
 * @example
 * await changedFrom(meta, lockAt, -1, 50); // the writer gave the slot back, or 50 ms passed
 */
export async function changedFrom(
  array: Int32Array,
  index: number,
  value: number,
  ms: number,
): Promise<void> {
  const wait = Atomics.waitAsync(array, index, value, ms);
  if (!wait.async) return;
  // The timer keeps the worker's event loop turning meanwhile: a waitAsync alone does not.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([wait.value, new Promise((done) => timer = setTimeout(done, ms))]);
  clearTimeout(timer);
}

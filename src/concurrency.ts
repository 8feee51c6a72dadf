/**
 * How many folders are listed at once (Deno.readDir): a network share answers each listing
 * after a round trip, and a local disk gains nothing from more.
 */
export const LIST_CONCURRENCY = 8;

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

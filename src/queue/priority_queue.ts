/**
 * A binary max-heap: `pop` returns the item that `before` ranks first.
 *
 * @example
 * const queue = new PriorityQueue<number>((a, b) => a > b);
 * queue.push(1); queue.push(3); queue.push(2);
 * queue.pop(); // 3
 */
export class PriorityQueue<T> {
  #items: T[] = [];

  /** `before(a, b)` is true when `a` must come out before `b`. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** The first item without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  #siftDown(i: number): void {
    const items = this.#items;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < items.length && this.before(items[left], items[first])) first = left;
      if (right < items.length && this.before(items[right], items[first])) first = right;
      if (first === i) return;
      this.#swap(i, first);
      i = first;
    }
  }

  /** Swaps two items (without the array a destructuring swap makes, once a swap). */
  #swap(i: number, j: number): void {
    const items = this.#items;
    const item = items[i];
    items[i] = items[j];
    items[j] = item;
  }
}

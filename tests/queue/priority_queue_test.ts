/** PriorityQueue against a sorted-array model: random push/pop sequences must agree with it. */
import { assert, fc } from "../deps.ts";
import { PriorityQueue } from "../../src/queue/priority_queue.ts";

/** An item whose `key` decides the order; `id` tells apart items with equal keys. */
interface Item {
  key: number;
  id: number;
}

const higherKey = (a: Item, b: Item) => a.key > b.key;

type Operation = { kind: "push"; key: number } | { kind: "pop" };

/** Small keys, so that equal keys are common. */
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.integer({ min: -50, max: 50 }).map((key) => ({ kind: "push" as const, key })),
  fc.constant({ kind: "pop" as const }),
);

Deno.test("an empty queue has size 0 and pops and peeks undefined", () => {
  const queue = new PriorityQueue<number>((a, b) => a > b);
  assert.equal(queue.size, 0);
  assert.equal(queue.peek(), undefined);
  assert.equal(queue.pop(), undefined);
  assert.equal(queue.size, 0);
});

Deno.test("every pop returns the model's best item, and size and peek follow the model", () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
      const queue = new PriorityQueue<Item>(higherKey);
      // The model: items kept sorted, best (highest key) first.
      const model: Item[] = [];
      let nextId = 0;
      for (const op of operations) {
        if (op.kind === "push") {
          const item = { key: op.key, id: nextId++ };
          queue.push(item);
          model.push(item);
          model.sort((a, b) => b.key - a.key);
        } else {
          const popped = queue.pop();
          if (model.length === 0) {
            assert.equal(popped, undefined);
            continue;
          }
          assert.ok(popped !== undefined, "pop on a non-empty queue returned undefined");
          assert.equal(popped.key, model[0].key, "popped an item that is not the best");
          // Equal keys may come out in any order; the popped item must be one of them.
          const index = model.findIndex((item) => item.id === popped.id);
          assert.ok(index >= 0, `item ${popped.id} popped twice or never pushed`);
          model.splice(index, 1);
        }
        assert.equal(queue.size, model.length);
        assert.equal(queue.peek()?.key, model[0]?.key);
      }
    }),
  );
});

Deno.test("popping everything yields the pushed items in heap order (a sorted sequence)", () => {
  fc.assert(
    fc.property(fc.array(fc.integer(), { maxLength: 500 }), (keys) => {
      const queue = new PriorityQueue<number>((a, b) => a < b);
      for (const key of keys) queue.push(key);
      const out: number[] = [];
      for (let key = queue.pop(); key !== undefined; key = queue.pop()) out.push(key);
      assert.deepEqual(out, [...keys].sort((a, b) => a - b));
      assert.equal(queue.size, 0);
    }),
  );
});

Deno.test("the order is the one `before` gives, not the items' natural order", () => {
  const queue = new PriorityQueue<string>((a, b) => a.length > b.length);
  for (const word of ["bb", "a", "dddd", "ccc"]) queue.push(word);
  assert.deepEqual([queue.pop(), queue.pop(), queue.pop(), queue.pop()], [
    "dddd",
    "ccc",
    "bb",
    "a",
  ]);
});

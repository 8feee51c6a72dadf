/**
 * The score of a FileTask and the heap order built on it: priority first, small files first,
 * waiting time so that big files are never starved.
 */
import { assert, fc } from "../deps.ts";
import {
  type FileTask,
  orderByStartScore,
  ORDERS,
  PRIORITIES,
  scoresHigher,
  startScore,
  taskOrder,
  taskOrderBy,
  type TaskPriority,
  taskScore,
} from "../../src/queue/file_task.ts";

const MB = 1_000_000;
const GB = 1000 * MB;

function task(
  path: string,
  size: number,
  options: { priority?: TaskPriority; addedAt?: number } = {},
): FileTask {
  return {
    path,
    size,
    priority: options.priority ?? "normal",
    addedAt: options.addedAt ?? 0,
  };
}

Deno.test("a higher priority beats any size: a 4 GB high file goes before a 1-byte normal one", () => {
  const big = task("clip.mp4", 4 * GB, { priority: "high" });
  const tiny = task("a.xmp", 1);
  assert.ok(taskScore(big, 0) > taskScore(tiny, 0));
  assert.ok(scoresHigher(big, tiny));
  assert.ok(!scoresHigher(tiny, big));
});

Deno.test("each priority level outranks the one below it, from low to critical", () => {
  for (let level = 1; level < PRIORITIES.length; level++) {
    const upper = task("big", 10 * GB, { priority: PRIORITIES[level] });
    const lower = task("small", 0, { priority: PRIORITIES[level - 1] });
    assert.ok(scoresHigher(upper, lower), `${PRIORITIES[level]} over ${PRIORITIES[level - 1]}`);
  }
});

Deno.test("above 1 MB the smaller file scores higher", () => {
  const sizes = [1.5 * MB, 2 * MB, 10 * MB, 700 * MB, 3 * GB];
  for (let i = 1; i < sizes.length; i++) {
    const smaller = task("smaller", sizes[i - 1]);
    const larger = task("larger", sizes[i]);
    assert.ok(taskScore(smaller, 0) > taskScore(larger, 0), `${sizes[i - 1]} vs ${sizes[i]}`);
    assert.ok(scoresHigher(smaller, larger));
    assert.ok(!scoresHigher(larger, smaller));
  }
});

Deno.test("up to 1 MB files score alike, and the tie goes to the smaller path, whatever the sizes", () => {
  const tiny = task("z/tiny", 10);
  const half = task("a/half", 500_000);
  assert.equal(taskScore(tiny, 0), taskScore(half, 0));
  assert.ok(scoresHigher(half, tiny), "folder a before folder z, though its file is larger");
  assert.ok(!scoresHigher(tiny, half));
  for (const order of ["large-first", "path"] as const) {
    assert.ok(taskOrder(order)(half, tiny), order);
    assert.ok(!taskOrder(order)(tiny, half), order);
  }
});

Deno.test("a tie of score and size goes to the smaller path", () => {
  const a = task("DCIM/IMG_0001.JPG", 2048);
  const b = task("DCIM/IMG_0002.JPG", 2048);
  assert.ok(scoresHigher(a, b));
  assert.ok(!scoresHigher(b, a));
});

Deno.test("waiting adds one point per 10 s", () => {
  const waiting = task("clip.mp4", 4 * GB, { addedAt: 5_000 });
  assert.equal(taskScore(waiting, 65_000) - taskScore(waiting, 5_000), 6);
});

Deno.test("an old big file overtakes new small files once it has waited long enough", () => {
  const big = task("clip.mp4", 4 * GB, { addedAt: 0 });
  // The big file scores 0.025 for size, a small one 100: about 1000 s of waiting apart.
  const soon = task("soon.xmp", 10, { addedAt: 900_000 });
  const later = task("later.xmp", 10, { addedAt: 1_000_000 });
  assert.ok(scoresHigher(soon, big), "after 900 s the small file still goes first");
  assert.ok(scoresHigher(big, later), "after 1000 s the big file goes first");
  assert.ok(!scoresHigher(later, big));
});

/** Tasks as a queue may hold them: realistic sizes, times and a few paths (so ties happen). */
const arbitraryTask = fc.record({
  path: fc.constantFrom("a.jpg", "b.jpg", "DCIM/c.cr3", "d/e.mp4"),
  size: fc.oneof(
    fc.integer({ min: 0, max: 2 * MB }),
    fc.integer({ min: 0, max: 64 * GB }),
    fc.constantFrom(0, MB, 2 * MB, 4 * GB),
  ),
  priority: fc.constantFrom(...PRIORITIES),
  addedAt: fc.oneof(
    fc.integer({ min: 0, max: 100_000 }),
    fc.integer({ min: 0, max: 4_000_000_000_000 }),
  ),
}).map(({ path, size, priority, addedAt }) => task(path, size, { priority, addedAt }));

Deno.test("scoresHigher is irreflexive: no task goes before itself", () => {
  fc.assert(fc.property(arbitraryTask, (a) => !scoresHigher(a, a)));
  fc.assert(fc.property(arbitraryTask, (a) => !scoresHigher(a, structuredClone(a))));
});

Deno.test("scoresHigher is antisymmetric: of two tasks at most one goes first", () => {
  fc.assert(
    fc.property(
      arbitraryTask,
      arbitraryTask,
      (a, b) => !(scoresHigher(a, b) && scoresHigher(b, a)),
    ),
  );
});

Deno.test("scoresHigher is transitive", () => {
  fc.assert(
    fc.property(arbitraryTask, arbitraryTask, arbitraryTask, (a, b, c) => {
      if (scoresHigher(a, b) && scoresHigher(b, c)) assert.ok(scoresHigher(a, c));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("scoresHigher agrees with the scores at any later time: time never reorders the heap", () => {
  fc.assert(
    fc.property(
      arbitraryTask,
      arbitraryTask,
      fc.integer({ min: 0, max: 30 * 24 * 3600 * 1000 }),
      (a, b, wait) => {
        const now = Math.max(a.addedAt, b.addedAt) + wait;
        const difference = taskScore(a, now) - taskScore(b, now);
        // Only a clear difference decides; closer than this is a tie up to rounding.
        if (difference > 1e-6) assert.ok(scoresHigher(a, b), `ahead by ${difference} at ${now}`);
        if (difference < -1e-6) assert.ok(!scoresHigher(a, b), `behind by ${difference}`);
      },
    ),
  );
});

Deno.test("orderByStartScore orders tasks added at the start as taskOrderBy does, in each order", () => {
  const tasks = fc.array(
    fc.record({
      priority: fc.constantFrom(...PRIORITIES),
      // Equal sizes and scores too, which the path then orders.
      size: fc.oneof(fc.constantFrom(0, 1, 4096, MB, 5 * GB), fc.integer({ min: 0, max: 2 ** 40 })),
    }),
    { minLength: 1, maxLength: 40 },
  );
  fc.assert(
    fc.property(tasks, fc.constantFrom(...ORDERS), fc.integer(), (list, order, seed) => {
      // Ranks: a shuffled place in path order for each task.
      const ranks = new Uint32Array(list.map((_, i) => i))
        .sort((a, b) =>
          ((a * 2654435761 + seed) >>> 0) % 97 - ((b * 2654435761 + seed) >>> 0) % 97 || a - b
        );
      const scores = new Float64Array(list.map((t) => startScore(t.priority, t.size, order)));
      const fast = orderByStartScore(scores, ranks);
      const slow = taskOrderBy<number, number>(order, {
        path: (i) => ranks[i],
        size: (i) => list[i].size,
        priority: (i) => list[i].priority,
        addedAt: () => 0,
      });
      for (let a = 0; a < list.length; a++) {
        for (let b = 0; b < list.length; b++) {
          assert.equal(fast(a, b), slow(a, b), `${a} before ${b}`);
        }
      }
    }),
  );
});

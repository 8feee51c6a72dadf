/**
 * DestinationQueue: slots pulling from one heap, retries with growing pauses, failures
 * handed over. Pauses go through an injected `sleep` that records them instead of waiting.
 */
import { assert } from "../deps.ts";
import {
  DestinationQueue,
  LIGHT_PER_SLOT,
  type QueueOptions,
} from "../../src/queue/destination_queue.ts";
import { type FileTask, scoresHigher } from "../../src/queue/file_task.ts";

function task(path: string, size = 1000, addedAt = 0): FileTask {
  return { path, size, priority: "normal", addedAt };
}

/** A queue whose pauses are recorded in `pauses` and return at once. */
function recordingQueue(options: Partial<QueueOptions<FileTask>> = {}) {
  const pauses: number[] = [];
  const queue = new DestinationQueue<FileTask>({
    before: scoresHigher,
    slots: 1,
    retries: 3,
    retryPauseMs: 500,
    retryable: () => true,
    sleep: (ms) => {
      pauses.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { queue, pauses };
}

/** Lets other promises and timers run, as real I/O would. */
const yieldToOthers = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failure that, like a full disk, is not worth another attempt. */
class NotRetryable extends Error {}

Deno.test("when every task succeeds, each is processed exactly once", async () => {
  const { queue, pauses } = recordingQueue({ slots: 4 });
  const paths = Array.from({ length: 50 }, (_, i) => `file-${String(i).padStart(2, "0")}`);
  for (const path of paths) queue.push(task(path, 1000 + paths.indexOf(path)));
  const processed: string[] = [];
  const failed: string[] = [];
  await queue.drain(
    async (t) => {
      await yieldToOthers(0);
      processed.push(t.path);
    },
    (t) => failed.push(t.path),
  );
  assert.deepEqual([...processed].sort(), paths);
  assert.deepEqual(failed, []);
  assert.deepEqual(pauses, []);
  assert.equal(queue.pending, 0);
  assert.equal(queue.running, 0);
});

Deno.test("draining an empty queue resolves at once", async () => {
  const { queue } = recordingQueue();
  let calls = 0;
  await queue.drain(() => Promise.resolve(void calls++), () => calls++);
  assert.equal(calls, 0);
});

Deno.test("no more than `slots` tasks run at once, and all slots are used", async () => {
  for (const slots of [1, 3, 8]) {
    const { queue } = recordingQueue({ slots });
    for (let i = 0; i < 30; i++) queue.push(task(`f${i}`, 1000 + i));
    let now = 0;
    let most = 0;
    await queue.drain(async (t) => {
      now++;
      most = Math.max(most, now);
      await yieldToOthers(1 + (t.size % 3));
      now--;
    }, () => {});
    assert.equal(most, slots, `${slots} slots`);
  }
});

Deno.test("a task failing twice then succeeding is retried after 500 then 1000 ms", async () => {
  const { queue, pauses } = recordingQueue({ retries: 3, retryPauseMs: 500 });
  queue.push(task("flaky.jpg"));
  const attempts: number[] = [];
  const failures: unknown[] = [];
  const done: string[] = [];
  await queue.drain(async (t, attempt) => {
    attempts.push(attempt);
    await yieldToOthers(0);
    if (attempts.length <= 2) throw new Error(`transient failure ${attempts.length}`);
    done.push(t.path);
  }, (_, error) => failures.push(error));
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.deepEqual(pauses, [500, 1000]);
  assert.deepEqual(done, ["flaky.jpg"]);
  assert.deepEqual(failures, []);
});

Deno.test("a task that always fails is tried retries + 1 times, then handed over with its last error", async () => {
  const { queue, pauses } = recordingQueue({ slots: 2, retries: 3, retryPauseMs: 500 });
  queue.push(task("broken.jpg", 10));
  for (const path of ["a.jpg", "b.jpg", "c.jpg"]) queue.push(task(path, 100));
  let brokenAttempts = 0;
  const completed: string[] = [];
  const failures: { path: string; attempts: number; error: unknown }[] = [];
  await queue.drain(async (t) => {
    await yieldToOthers(0);
    if (t.path === "broken.jpg") throw new Error(`attempt ${++brokenAttempts} failed`);
    completed.push(t.path);
  }, (t, error, attempts) => failures.push({ path: t.path, attempts, error }));
  assert.equal(brokenAttempts, 4);
  assert.deepEqual(pauses, [500, 1000, 2000], "each pause doubles the one before");
  assert.equal(failures.length, 1);
  assert.equal(failures[0].path, "broken.jpg");
  assert.equal(failures[0].attempts, 4);
  assert.ok(failures[0].error instanceof Error);
  assert.equal(failures[0].error.message, "attempt 4 failed");
  assert.deepEqual(completed.sort(), ["a.jpg", "b.jpg", "c.jpg"]);
});

Deno.test("a non-retryable error goes to onFailure after one attempt, without a pause", async () => {
  const { queue, pauses } = recordingQueue({
    retries: 5,
    retryable: (error) => !(error instanceof NotRetryable),
  });
  queue.push(task("full-disk.jpg"));
  queue.push(task("other.jpg", 2000));
  let attempts = 0;
  const completed: string[] = [];
  const failures: unknown[] = [];
  const fatal = new NotRetryable("no space left on device");
  await queue.drain((t) => {
    if (t.path !== "full-disk.jpg") {
      completed.push(t.path);
      return Promise.resolve();
    }
    attempts++;
    return Promise.reject(fatal);
  }, (_, error) => failures.push(error));
  assert.equal(attempts, 1);
  assert.deepEqual(pauses, []);
  assert.deepEqual(failures, [fatal]);
  assert.deepEqual(completed, ["other.jpg"]);
});

Deno.test("a retried task keeps its place: its addedAt is unchanged and it still goes first", async () => {
  const { queue, pauses } = recordingQueue({ slots: 1 });
  // Same size, so the order is decided by waiting time: the oldest task first.
  queue.push(task("newer.jpg", 5000, 60_000));
  queue.push(task("oldest.jpg", 5000, 0));
  queue.push(task("newest.jpg", 5000, 120_000));
  const order: string[] = [];
  const addedAt: number[] = [];
  await queue.drain((t, attempt) => {
    order.push(t.path);
    if (t.path !== "oldest.jpg") return Promise.resolve();
    addedAt.push(t.addedAt);
    return attempt === 1 ? Promise.reject(new Error("transient")) : Promise.resolve();
  }, () => {});
  assert.deepEqual(order, ["oldest.jpg", "oldest.jpg", "newer.jpg", "newest.jpg"]);
  assert.deepEqual(addedAt, [0, 0]);
  assert.deepEqual(pauses, [500]);
});

Deno.test("bare numbers queue too, index 0 among them, each attempt counted by the queue", async () => {
  const numbers = new DestinationQueue<number>({
    before: (a, b) => a < b,
    slots: 2,
    retries: 1,
    retryPauseMs: 0,
    retryable: () => true,
    sleep: () => Promise.resolve(),
  });
  for (const index of [3, 0, 2, 1]) numbers.push(index);
  const seen: [number, number][] = [];
  const failed: [number, number][] = [];
  await numbers.drain((index, attempt) => {
    seen.push([index, attempt]);
    return index === 2 ? Promise.reject(new Error("bad")) : Promise.resolve();
  }, (index, _, attempts) => failed.push([index, attempts]));
  assert.deepEqual(seen.filter(([index]) => index !== 2).map(([index]) => index), [0, 1, 3]);
  assert.deepEqual(seen.filter(([index]) => index === 2), [[2, 1], [2, 2]]);
  assert.deepEqual(failed, [[2, 2]]);
  assert.equal(numbers.pending, 0);
});

Deno.test("light tasks go LIGHT_PER_SLOT to a slot while they are next, the others one", async () => {
  // In path order (all under 1 MB): 20 light files, then 6 heavy ones.
  const { queue } = recordingQueue({ slots: 2, light: (t) => t.size < 100 });
  for (let k = 0; k < 20; k++) queue.push(task(`a/light-${k}`, 10 + k));
  for (let k = 0; k < 6; k++) queue.push(task(`b/heavy-${k}`, 1000 + k));
  let inHand = 0;
  const atStart = { light: 0, heavy: 0 };
  const done: string[] = [];
  await queue.drain(async (t) => {
    inHand++;
    const kind = t.size < 100 ? "light" : "heavy";
    atStart[kind] = Math.max(atStart[kind], inHand);
    await yieldToOthers(2);
    inHand--;
    done.push(t.path);
  }, () => {});
  assert.equal(done.length, 26);
  assert.equal(atStart.light, 2 * LIGHT_PER_SLOT);
  // A heavy file starts only once no more than the slots are in hand, itself included.
  assert.equal(atStart.heavy, 2);
  assert.equal(queue.running, 0);
});

Deno.test("read-ahead: each task is started before its turn, `count` ahead, and run in order", async () => {
  const events: string[] = [];
  const { queue } = recordingQueue({
    slots: 1,
    ahead: { count: 3, start: (t) => events.push(`start ${t.path}`) },
  });
  for (let k = 0; k < 8; k++) queue.push(task(`f${k}`, (100 - k) * 1_000_000));
  await queue.drain(async (t) => {
    events.push(`run ${t.path}`);
    await yieldToOthers(0);
  }, () => {});
  const runs = events.filter((e) => e.startsWith("run")).map((e) => e.slice(4));
  // Small first, as without read-ahead.
  assert.deepEqual(runs, ["f7", "f6", "f5", "f4", "f3", "f2", "f1", "f0"]);
  for (const path of runs) {
    const started = events.indexOf(`start ${path}`);
    assert.ok(started >= 0 && started < events.indexOf(`run ${path}`), `${path} started first`);
    assert.equal(events.filter((e) => e === `start ${path}`).length, 1, `${path} started once`);
  }
  // When f7 runs, f6, f5 and f4 are already started, and no more.
  assert.deepEqual(events.slice(0, 5), ["start f7", "start f6", "start f5", "start f4", "run f7"]);
  assert.equal(queue.pending, 0);
});

Deno.test("read-ahead: a retried task is started again before its next attempt", async () => {
  const starts: string[] = [];
  const { queue } = recordingQueue({
    slots: 2,
    retries: 1,
    ahead: { count: 2, start: (t) => starts.push(t.path) },
  });
  for (let k = 0; k < 5; k++) queue.push(task(`f${k}`, 10 + k));
  const attempts: string[] = [];
  const failed: string[] = [];
  await queue.drain(async (t, attempt) => {
    attempts.push(`${t.path}#${attempt}`);
    if (t.path === "f1" && attempt === 1) throw new Error("flaky");
    await yieldToOthers(1);
  }, (t) => failed.push(t.path));
  assert.deepEqual(failed, []);
  assert.equal(attempts.length, 6);
  assert.deepEqual(starts.filter((path) => path === "f1"), ["f1", "f1"]);
  assert.deepEqual(starts.sort(), ["f0", "f1", "f1", "f2", "f3", "f4"]);
});

Deno.test("read-ahead: tasks started ahead count as pending, and a stopped queue runs none of them", async () => {
  const started: string[] = [];
  const { queue } = recordingQueue({
    slots: 1,
    ahead: { count: 4, start: (t) => started.push(t.path) },
  });
  for (let k = 0; k < 10; k++) queue.push(task(`f${k}`, 10 + k));
  const ran: string[] = [];
  await queue.drain(async (t) => {
    ran.push(t.path);
    if (ran.length === 2) {
      // f0 and f1 taken, f2..f5 started ahead, f6..f9 in the heap.
      assert.equal(queue.pending, 8);
      queue.stop();
    }
    await yieldToOthers(0);
  }, () => {});
  assert.deepEqual(ran, ["f0", "f1"]);
  assert.deepEqual(started, ["f0", "f1", "f2", "f3", "f4", "f5"]);
});

Deno.test("tasks that never wait still give the event loop a turn every TURN_MS", async () => {
  const { queue } = recordingQueue({ slots: 4 });
  const total = 400;
  for (let k = 0; k < total; k++) queue.push(task(`f${k}`, 10 + k));
  let done = 0;
  const heard: number[] = [];
  // A timer stands for what waits on the event loop: a flush, a message from the coordinator.
  const timer = setInterval(() => heard.push(done), 1);
  await queue.drain(() => {
    // About 0.1 ms of work in plain calls, and no wait at all.
    const until = performance.now() + 0.1;
    while (performance.now() < until);
    done++;
    return Promise.resolve();
  }, () => {});
  clearInterval(timer);
  assert.equal(done, total);
  // 40 ms of work (8 TURN_MS): the timer is heard during it, not only once it is over.
  const during = heard.filter((at) => at > 0 && at < total);
  assert.ok(during.length >= 2, `heard at ${heard}`);
});

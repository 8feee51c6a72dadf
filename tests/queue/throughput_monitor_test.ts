/**
 * ThroughputMonitor on a simulated clock, against simulated destinations whose throughput
 * curves are chosen: it must settle on the slot count each curve rewards.
 */
import { assert } from "../deps.ts";
import { ThroughputMonitor } from "../../src/queue/throughput_monitor.ts";

/** Bytes per second a destination delivers with `slots` copies in flight. */
type Curve = (slots: number) => number;

const MB = 1_000_000;

/** Runs a destination for `seconds` in 100 ms steps; returns the slot count at each step. */
function simulate(curve: Curve, seconds: number, start = 4, noise = 0.1): number[] {
  let now = 0;
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const monitor = new ThroughputMonitor({ now: () => now });
  let slots = start;
  const history: number[] = [];
  for (let step = 0; step < seconds * 10; step++) {
    now += 100;
    monitor.record(curve(slots) * 0.1 * (1 - noise + 2 * noise * random()));
    const decision = monitor.recommend(slots);
    if (decision) {
      assert.equal(decision.previous, slots);
      assert.ok(Math.abs(decision.slots - slots) === 1, "one step at a time");
      assert.ok(decision.slots >= 1 && decision.slots <= 8);
      slots = decision.slots;
    }
    history.push(slots);
  }
  return history;
}

/** Share of the last `seconds` spent at `slots`. */
function shareAt(history: number[], slots: number, seconds = 60): number {
  const tail = history.slice(-seconds * 10);
  return tail.filter((s) => s === slots).length / tail.length;
}

Deno.test("a destination that scales with concurrency settles on 8 slots", () => {
  const history = simulate((n) => 10 * MB * n, 120);
  assert.ok(shareAt(history, 8) >= 0.8, `at 8 only ${shareAt(history, 8)}`);
});

Deno.test("a destination that saturates at one copy settles on 1 slot", () => {
  const history = simulate(() => 50 * MB, 120);
  assert.ok(shareAt(history, 1) >= 0.8, `at 1 only ${shareAt(history, 1)}`);
});

Deno.test("a destination that degrades with concurrency (a spinning disk) settles on 1 slot", () => {
  const history = simulate((n) => 60 * MB / n, 120, 8);
  assert.ok(shareAt(history, 1) >= 0.8, `at 1 only ${shareAt(history, 1)}`);
});

Deno.test("a destination that peaks at 3 settles on 3 slots, from above and from below", () => {
  const curve: Curve = (n) => [0, 20, 35, 45, 45, 40, 35, 30, 25][n] * MB;
  for (const start of [1, 8]) {
    const history = simulate(curve, 120, start);
    assert.ok(shareAt(history, 3) >= 0.75, `from ${start}: at 3 only ${shareAt(history, 3)}`);
  }
});

Deno.test("it follows a destination whose speed curve changes mid-run", () => {
  let now = 0;
  const monitor = new ThroughputMonitor({ now: () => now });
  let slots = 4;
  const seen: number[] = [];
  for (let step = 0; step < 2400; step++) {
    now += 100;
    const saturated = step >= 1200;
    monitor.record((saturated ? 40 * MB : 10 * MB * slots) * 0.1);
    slots = monitor.recommend(slots)?.slots ?? slots;
    seen.push(slots);
  }
  assert.ok(shareAt(seen.slice(0, 1200), 8) >= 0.7, "scaled up first");
  assert.ok(shareAt(seen, 1) >= 0.7, "then came down to 1");
});

Deno.test("decisions come at most every 2 seconds and not from idle periods", () => {
  let now = 0;
  const monitor = new ThroughputMonitor({ now: () => now });
  monitor.record(MB);
  now = 1999;
  assert.equal(monitor.recommend(4), null, "too early");
  now = 2500;
  assert.notEqual(monitor.recommend(4), null);
  now = 4000;
  monitor.record(MB);
  assert.equal(monitor.recommend(5), null, "1.5 s since the last decision");
  now = 6000;
  monitor.record(MB);
  assert.equal(monitor.recommend(5, false), null, "a period without waiting work says nothing");
});

Deno.test("bytesPerSecond is the rate over the sliding window", () => {
  let now = 0;
  const monitor = new ThroughputMonitor({ now: () => now, windowMs: 3000 });
  assert.equal(monitor.bytesPerSecond(), 0);
  for (let i = 0; i < 100; i++) {
    now += 100;
    monitor.record(i < 50 ? 1 * MB : 3 * MB);
  }
  // The last 3 s carried 30 MB/s, whatever came before.
  assert.ok(
    Math.abs(monitor.bytesPerSecond() - 30 * MB) / (30 * MB) < 0.05,
    `${monitor.bytesPerSecond()}`,
  );
  assert.equal(monitor.totalBytes, 50 * MB + 150 * MB);
});

Deno.test("with many small files it follows files done, not bytes that grow as files get bigger", () => {
  // Files done per second peak at 6 slots (each one's fsync overlaps the others'), while
  // small-first hands out ever bigger files: 2 KiB at the start, 40 KiB after a minute.
  const filesPerSecond = (n: number) => [0, 300, 550, 750, 900, 1000, 1050, 1000, 900][n];
  const run = (countFiles: boolean) => {
    let now = 0;
    const monitor = new ThroughputMonitor({ now: () => now });
    let slots = 4;
    const seen: number[] = [];
    for (let step = 0; step < 1200; step++) {
      now += 100;
      const size = 2048 + step * 32;
      const files = Math.round(filesPerSecond(slots) * 0.1);
      for (let f = 0; f < files; f++) {
        monitor.record(size);
        if (countFiles) monitor.fileDone();
      }
      slots = monitor.recommend(slots)?.slots ?? slots;
      seen.push(slots);
    }
    return seen;
  };
  const withFiles = run(true);
  assert.ok(
    shareAt(withFiles, 6) + shareAt(withFiles, 5) >= 0.8,
    `at 5 or 6 only ${shareAt(withFiles, 6) + shareAt(withFiles, 5)}`,
  );
  // The control: fed bytes alone, the same run does not find the peak, so the test can tell.
  const bytesOnly = run(false);
  assert.ok(shareAt(bytesOnly, 6) + shareAt(bytesOnly, 5) < 0.8, "bytes alone found it too");
});

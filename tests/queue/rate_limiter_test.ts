/** The token bucket on a simulated clock: concurrent takers share one rate that holds. */
import { assert } from "../deps.ts";
import { RateLimiter } from "../../src/queue/rate_limiter.ts";

/** A clock that only moves when someone sleeps on it. */
function simulatedClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  };
}

Deno.test("one taker moves at the limited rate, within a percent, after the first burst", async () => {
  const clock = simulatedClock();
  const rate = 24 * 2 ** 20;
  const limiter = new RateLimiter({ rate, ...clock });
  const total = 240 * 2 ** 20;
  for (let sent = 0; sent < total; sent += 2 ** 20) await limiter.take(2 ** 20);
  const seconds = clock.now() / 1000;
  const expected = (total - rate / 10) / rate;
  assert.ok(Math.abs(seconds - expected) / expected < 0.01, `${seconds} s, expected ${expected} s`);
});

Deno.test("concurrent takers share the rate: together they get the limit, not a multiple", async () => {
  let now = 0;
  const sleepers: { until: number; wake: () => void }[] = [];
  const limiter = new RateLimiter({
    rate: 10_000_000,
    now: () => now,
    sleep: (ms) => new Promise<void>((wake) => sleepers.push({ until: now + ms, wake })),
  });
  let bytes = 0;
  const taker = async () => {
    for (let i = 0; i < 50; i++) {
      await limiter.take(100_000);
      bytes += 100_000;
    }
  };
  const done = Promise.all([taker(), taker(), taker(), taker()]);
  // Drive the clock: wake the earliest sleeper, let everyone run, repeat.
  while (sleepers.length > 0 || bytes < 20_000_000) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    sleepers.sort((a, b) => a.until - b.until);
    const next = sleepers.shift();
    if (!next) break;
    now = Math.max(now, next.until);
    next.wake();
  }
  await done;
  assert.equal(bytes, 20_000_000);
  const expected = (20_000_000 - 1_000_000) / 10_000_000 * 1000;
  assert.ok(Math.abs(now - expected) / expected < 0.02, `${now} ms, expected ${expected} ms`);
});

Deno.test("an idle bucket refills only up to its burst", async () => {
  const clock = simulatedClock();
  const limiter = new RateLimiter({ rate: 1000, burst: 100, ...clock });
  clock.sleep(60_000);
  const before = clock.now();
  await limiter.take(100);
  assert.equal(clock.now(), before, "the burst passes at once");
  await limiter.take(500);
  assert.equal(clock.now() - before, 500, "the rest waits at the rate");
});

/** ETA and progress merging on a simulated clock. */
import { assert } from "../deps.ts";
import { EtaEstimator, ProgressAggregator } from "../../src/coordinator/progress.ts";
import type { DestinationStats } from "../../src/coordinator/messages.ts";

const MB = 1_000_000;

Deno.test("no ETA until two seconds of data, then remaining / rate", () => {
  const eta = new EtaEstimator();
  eta.sample(0, 0);
  eta.sample(1000, 10 * MB);
  assert.equal(eta.secondsLeft(1000, 90 * MB), null);
  eta.sample(2000, 20 * MB);
  assert.equal(Math.round(eta.secondsLeft(2000, 80 * MB)!), 8);
  assert.equal(eta.secondsLeft(2000, 0), 0, "nothing left is no time left");
});

Deno.test("the ETA stays steady while the speed swings second to second", () => {
  const eta = new EtaEstimator();
  const total = 3000 * MB;
  let bytes = 0;
  const estimates: number[] = [];
  for (let t = 0; t <= 120_000; t += 250) {
    // 10 MB/s on average: alternately 2 and 18 MB/s, one second each.
    bytes += (Math.floor(t / 1000) % 2 === 0 ? 2 : 18) * MB / 4;
    eta.sample(t, bytes);
    if (t >= 30_000) estimates.push(t / 1000 + eta.secondsLeft(t, total - bytes)!);
  }
  // The predicted finish time moves little although the speed changes ninefold.
  const spread = Math.max(...estimates) - Math.min(...estimates);
  assert.ok(spread < 0.15 * 300, `finish estimates spread over ${spread.toFixed(1)} s`);
  assert.ok(Math.abs(eta.rate - 10 * MB) < 2 * MB, `rate ${eta.rate}`);
});

Deno.test("the ETA follows a real change of speed within seconds", () => {
  const eta = new EtaEstimator();
  let bytes = 0;
  for (let t = 0; t <= 60_000; t += 250) {
    bytes += (t < 30_000 ? 40 : 10) * MB / 4;
    eta.sample(t, bytes);
  }
  assert.ok(Math.abs(eta.rate - 10 * MB) < 1 * MB, `rate ${eta.rate} after the slowdown`);
});

Deno.test("the aggregator keeps each destination's latest stats, its ETA and its end", () => {
  let now = 0;
  const progress = new ProgressAggregator(["/ssd", "/nas"], () => now);
  const stats = (bytesDone: number): DestinationStats => ({
    phase: "copy",
    filesDone: 1,
    filesTotal: 10,
    bytesDone,
    bytesTotal: 100 * MB,
    bytesPerSecond: 10 * MB,
    workers: 4,
    retries: 0,
    failures: 0,
  });
  assert.equal(progress.progress(0), null);
  progress.update(0, stats(0));
  now = 3000;
  progress.update(0, stats(30 * MB));
  const ssd = progress.progress(0)!;
  assert.deepEqual([ssd.destination, ssd.state, ssd.bytesDone, ssd.etaSeconds], [
    "/ssd",
    "running",
    30 * MB,
    7,
  ]);
  assert.equal(progress.progress(1), null);
  progress.finish(0, "ok");
  assert.equal(progress.progress(0)!.state, "ok");
});

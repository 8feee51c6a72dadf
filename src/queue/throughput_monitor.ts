/**
 * ThroughputMonitor: one destination's accounting. The copy slots only say "n bytes done";
 * the monitor turns that into a rate over a sliding window and recommends how many slots
 * the destination should run (1..8): more while more slots measurably raise throughput,
 * fewer when fewer do as well (a spinning disk or a congested link wants fewer).
 *
 * The recommendation is a hill climb over measured rates per slot count. A count's rate is
 * measured only while that count was running, after it settled; old measurements go stale
 * and are measured again, so the choice follows a destination whose speed changes.
 *
 * The rate the climb compares is of work, not of bytes alone: each finished file counts as
 * FILE_COST_BYTES more. A file costs an open, a create, an fsync and a rename whatever its
 * size, so with thousands of small files bytes per second says little about what the slots
 * achieve (and grows by itself as small-first moves on to bigger files), while files done
 * per second says it all; with large files the bytes dominate. `bytesPerSecond` stays bytes.
 */

export interface MonitorOptions {
  now: () => number;
  minSlots?: number;
  maxSlots?: number;
  /** Span of the sliding window behind `bytesPerSecond`. */
  windowMs?: number;
  /** Time a slot count runs before its rate counts; also the least time between changes. */
  decisionMs?: number;
  /** Relative gain that counts as "more slots helped" (0.1 = 10 %). */
  margin?: number;
  /** Age after which a count's measured rate is measured again. */
  staleMs?: number;
}

/** A change of slot count, with the numbers behind it. */
export interface SlotDecision {
  slots: number;
  previous: number;
  /** Bytes per second of `previous` over its last period. */
  bytesPerSecond: number;
  /** Files finished per second of `previous` over its last period. */
  filesPerSecond: number;
  reason: string;
}

const SAMPLE_BUCKET_MS = 100;

/**
 * What one finished file weighs in the climb, in bytes: about what this machine writes in
 * the time a file's fixed cost (open, create, fsync, rename) takes, ~1 ms.
 */
export const FILE_COST_BYTES = 256 * 1024;

interface Measurement {
  rate: number;
  at: number;
}

export class ThroughputMonitor {
  readonly #now: () => number;
  readonly #min: number;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #decisionMs: number;
  readonly #margin: number;
  readonly #staleMs: number;
  /** (time, bytes) samples within the window, oldest first. */
  #samples: [number, number][] = [];
  #windowBytes = 0;
  #total = 0;
  /** Bytes done and time when the current slot count started. */
  #periodStart: number;
  #periodBytes = 0;
  #periodFiles = 0;
  /** Work done in the current period: its bytes, plus FILE_COST_BYTES per finished file. */
  #periodWork = 0;
  #measured = new Map<number, Measurement>();

  constructor(options: MonitorOptions) {
    this.#now = options.now;
    this.#min = options.minSlots ?? 1;
    this.#max = options.maxSlots ?? 8;
    this.#windowMs = options.windowMs ?? 3000;
    this.#decisionMs = options.decisionMs ?? 2000;
    this.#margin = options.margin ?? 0.1;
    this.#staleMs = options.staleMs ?? 30_000;
    this.#periodStart = this.#now();
  }

  /** Counts `bytes` just written by one slot. */
  record(bytes: number): void {
    const now = this.#now();
    const last = this.#samples.at(-1);
    // Samples within one bucket are merged, so the window holds a few dozen entries.
    if (last && now - last[0] < SAMPLE_BUCKET_MS) last[1] += bytes;
    else this.#samples.push([now, bytes]);
    this.#windowBytes += bytes;
    this.#total += bytes;
    this.#periodBytes += bytes;
    this.#periodWork += bytes;
    this.#trim(now);
  }

  /** Counts one file finished by a slot (copied, or read back). */
  fileDone(): void {
    this.#periodFiles++;
    this.#periodWork += FILE_COST_BYTES;
  }

  get totalBytes(): number {
    return this.#total;
  }

  /** Bytes per second over the sliding window (or since the start, if shorter). */
  bytesPerSecond(): number {
    const now = this.#now();
    this.#trim(now);
    if (this.#samples.length === 0) return 0;
    const span = Math.max(
      now - this.#samples[0][0],
      Math.min(this.#windowMs, now - this.#periodStart),
      1,
    );
    return this.#windowBytes / (span / 1000);
  }

  /**
   * Called with the running slot count whenever convenient; returns a new count when one
   * is due, else null. `busy` is false when the queue had too little work to fill the
   * slots: such a period says nothing about what more slots would do, and is not measured.
   */
  recommend(current: number, busy = true): SlotDecision | null {
    const now = this.#now();
    const elapsed = now - this.#periodStart;
    if (elapsed < this.#decisionMs) return null;
    const rate = this.#periodWork / (elapsed / 1000);
    if (!busy || this.#periodWork === 0) {
      this.#startPeriod(now);
      return null;
    }
    const seconds = elapsed / 1000;
    const bytesPerSecond = Math.round(this.#periodBytes / seconds);
    const filesPerSecond = Math.round(this.#periodFiles / seconds);
    const earlier = this.#fresh(current, now);
    this.#measured.set(current, { rate: earlier ? (earlier.rate + rate) / 2 : rate, at: now });
    const measured = this.#measured.get(current)!.rate;
    const next = this.#choose(current, measured, now);
    this.#startPeriod(now);
    if (next === null) return null;
    return {
      slots: next.slots,
      previous: current,
      bytesPerSecond,
      filesPerSecond,
      reason: next.reason,
    };
  }

  #choose(current: number, rate: number, now: number): { slots: number; reason: string } | null {
    const up = current < this.#max ? this.#fresh(current + 1, now) : undefined;
    const down = current > this.#min ? this.#fresh(current - 1, now) : undefined;
    const gain = 1 + this.#margin;
    if (current < this.#max && !up && (!down || rate > down.rate * gain)) {
      return { slots: current + 1, reason: "probing whether one more slot helps" };
    }
    if (up && up.rate > rate * gain) {
      return { slots: current + 1, reason: "one more slot was measurably faster" };
    }
    if (current > this.#min && !down) {
      return { slots: current - 1, reason: "probing whether one slot fewer does as well" };
    }
    if (down && down.rate >= rate * (1 - this.#margin)) {
      return { slots: current - 1, reason: "one slot fewer was as fast" };
    }
    return null;
  }

  #fresh(slots: number, now: number): Measurement | undefined {
    const measurement = this.#measured.get(slots);
    return measurement && now - measurement.at <= this.#staleMs ? measurement : undefined;
  }

  #startPeriod(now: number): void {
    this.#periodStart = now;
    this.#periodBytes = 0;
    this.#periodFiles = 0;
    this.#periodWork = 0;
  }

  #trim(now: number): void {
    while (this.#samples.length > 0 && now - this.#samples[0][0] > this.#windowMs) {
      this.#windowBytes -= this.#samples.shift()![1];
    }
  }
}

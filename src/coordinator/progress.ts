/**
 * ProgressAggregator: merges the stats every destination worker sends (at most 4 times a
 * second) into per-destination progress with a smoothed rate and an ETA, for one renderer.
 * Work never waits on it: workers post and go on; the coordinator asks for snapshots.
 */
import type { DestinationSummary } from "./events.ts";
import type { DestinationStats } from "./messages.ts";

/** One destination's progress as renderers and `--json` see it. */
export interface DestinationProgress extends DestinationStats {
  destination: string;
  /** "running" until the destination is done, then how it ended. */
  state: "running" | DestinationSummary["status"];
  /** Seconds left at the smoothed rate; null until there is enough data. */
  etaSeconds: number | null;
}

/** Time constant of the smoothed rate behind the ETA. */
const SMOOTHING_MS = 5000;
/** Data needed before an ETA is shown. */
const WARMUP_MS = 2000;

/**
 * A rate that follows the true speed within seconds but shrugs off one slow or fast
 * second, from (time, bytes done) samples.
 *
 * @example
 * const eta = new EtaEstimator();
 * eta.sample(0, 0); eta.sample(3000, 30e6);
 * eta.secondsLeft(3000, 60e6); // 3
 */
export class EtaEstimator {
  #start: { at: number; bytes: number } | null = null;
  #last: { at: number; bytes: number } | null = null;
  #rate = 0;

  sample(at: number, bytes: number): void {
    if (this.#start === null || this.#last === null) {
      this.#start = this.#last = { at, bytes };
      return;
    }
    const elapsed = at - this.#last.at;
    if (elapsed <= 0) return;
    const sinceStart = at - this.#start.at;
    if (sinceStart <= SMOOTHING_MS) {
      // Until one time constant has passed, the average since the start is the best guess.
      this.#rate = (bytes - this.#start.bytes) / (sinceStart / 1000);
    } else {
      const rate = (bytes - this.#last.bytes) / (elapsed / 1000);
      this.#rate += (1 - Math.exp(-elapsed / SMOOTHING_MS)) * (rate - this.#rate);
    }
    this.#last = { at, bytes };
  }

  /** Bytes per second, smoothed. */
  get rate(): number {
    return this.#rate;
  }

  /** Seconds to move `remaining` more bytes, or null while the rate is unknown. */
  secondsLeft(at: number, remaining: number): number | null {
    if (remaining <= 0) return 0;
    if (this.#start === null || at - this.#start.at < WARMUP_MS || this.#rate <= 0) return null;
    return remaining / this.#rate;
  }
}

/** Per-destination progress, merged from the workers' stats. */
export class ProgressAggregator {
  #latest: (DestinationStats | null)[];
  #eta: EtaEstimator[];
  #state: DestinationProgress["state"][];

  constructor(
    private readonly destinations: string[],
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#latest = destinations.map(() => null);
    this.#eta = destinations.map(() => new EtaEstimator());
    this.#state = destinations.map(() => "running");
  }

  /** Marks destination `index` as done. */
  finish(index: number, state: DestinationSummary["status"]): void {
    this.#state[index] = state;
  }

  /** Takes the stats a destination's worker just sent. */
  update(index: number, stats: DestinationStats): void {
    this.#latest[index] = stats;
    this.#eta[index].sample(this.now(), stats.bytesDone);
  }

  /** The progress of destination `index`, or null before its first stats. */
  progress(index: number): DestinationProgress | null {
    const stats = this.#latest[index];
    if (!stats) return null;
    const etaSeconds = this.#eta[index].secondsLeft(this.now(), stats.bytesTotal - stats.bytesDone);
    return {
      destination: this.destinations[index],
      state: this.#state[index],
      ...stats,
      etaSeconds: etaSeconds === null ? null : Math.round(etaSeconds),
    };
  }
}

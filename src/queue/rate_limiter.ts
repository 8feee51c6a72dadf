/**
 * A token bucket shared by one destination's slots: each slot asks for the bytes it is
 * about to write and waits until the bucket allows them. Bytes are taken at once, even into
 * debt, so concurrent slots queue up fairly and the long-run rate holds.
 */

export interface RateLimiterOptions {
  /** Bytes per second. */
  rate: number;
  /** Bytes that may pass at once after a pause; defaults to a tenth of a second's worth. */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class RateLimiter {
  readonly rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #updated: number;

  constructor(options: RateLimiterOptions) {
    this.rate = options.rate;
    this.#burst = options.burst ?? options.rate / 10;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#tokens = this.#burst;
    this.#updated = this.#now();
  }

  /**
   * Waits until `bytes` may pass.
   *
   * @example
   * const limiter = new RateLimiter({ rate: 24 * 2 ** 20 });
   * await limiter.take(chunk.length);
   */
  async take(bytes: number): Promise<void> {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updated) / 1000 * this.rate);
    this.#updated = now;
    this.#tokens -= bytes;
    if (this.#tokens < 0) await this.#sleep(-this.#tokens / this.rate * 1000);
  }
}

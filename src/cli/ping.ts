/**
 * `--ping URL`: tells a cron monitor (healthchecks.io and the like) about a run. GET
 * `URL/start` when the run begins, `URL` when it succeeds, `URL/fail` when it fails. A ping
 * that cannot be sent is a warning and never changes the run's outcome; each waits at most
 * PING_TIMEOUT_MS. It needs `--allow-net=HOST` for the URL's host and nothing wider.
 */
import { UsageError } from "../errors.ts";

export const PING_TIMEOUT_MS = 10_000;

/** The three pings of a run, in the order they are sent. */
export type PingKind = "start" | "success" | "fail";

/**
 * Checks a ping URL: it must be http:// or https://.
 *
 * @example
 * parsePingUrl("https://hc-ping.com/5f1c…"); // URL
 */
export function parsePingUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--ping ${value} is not a URL; give one such as https://hc-ping.com/…`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--ping ${value}: only http:// and https:// URLs can be pinged`);
  }
  return url;
}

/** The URL of one ping: `base/start`, `base`, `base/fail` (query kept). */
export function pingUrl(base: URL, kind: PingKind): URL {
  const url = new URL(base);
  if (kind !== "success") url.pathname = `${url.pathname.replace(/\/+$/, "")}/${kind}`;
  return url;
}

/**
 * Sends the pings of one run. `start()` does not hold the run up; `end()` waits for it, so
 * the monitor always hears start before the end.
 *
 * @example
 * const pinger = new Pinger(parsePingUrl(url), (message) => warn(message));
 * pinger.start();
 * ...
 * await pinger.end(exitCode === 0);
 */
export class Pinger {
  #started: Promise<void> = Promise.resolve();
  #allowed: boolean;

  constructor(private readonly base: URL, private readonly warn: (message: string) => void) {
    const host = base.host;
    this.#allowed = Deno.permissions.querySync({ name: "net", host }).state === "granted";
    if (!this.#allowed) {
      warn(`--ping: not sent, fanout may not reach ${host}: run it with --allow-net=${host}`);
    }
  }

  start(): void {
    this.#started = this.#send("start");
  }

  async end(success: boolean): Promise<void> {
    await this.#started;
    await this.#send(success ? "success" : "fail");
  }

  async #send(kind: PingKind): Promise<void> {
    if (!this.#allowed) return;
    const url = pingUrl(this.base, kind);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      await response.body?.cancel();
      if (!response.ok) {
        this.warn(`--ping: ${url.href} answered ${response.status} ${response.statusText}`);
      }
    } catch (error) {
      const reason = (error as Error).name === "TimeoutError"
        ? `no answer in ${PING_TIMEOUT_MS / 1000} s`
        : (error as Error).message;
      this.warn(`--ping: ${url.href} could not be reached: ${reason}`);
    }
  }
}

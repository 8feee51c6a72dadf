/**
 * One destination's running stats for the progress display: every message the worker posts
 * passes through `post` here and updates them, the copy loop adds bytes, and a timer sends
 * the stats to the coordinator at most 4 times a second, only when they changed.
 *
 * File results go to the coordinator in batches of columns (`files`, FileResults), at most
 * FILE_BATCH at a time and at least every STATS_INTERVAL_MS: one message per file costs the
 * main thread a task each, and a burst of 100,000 of them (the copies of a --no-verify run,
 * told at its end) would queue 100,000 messages at once. Any other message sends the batch
 * first, so the order of everything the worker says is kept.
 */
import type { DestinationStats, FromWorker } from "../coordinator/messages.ts";
import { type FileDone, FileResultsBuilder } from "./file_results.ts";

type Post = (message: FromWorker) => void;

/** The most often stats go to the coordinator. */
export const STATS_INTERVAL_MS = 250;

/** The most file results in one `files` message. */
export const FILE_BATCH = 512;

export class StatsReporter implements Disposable {
  #stats: DestinationStats;
  #changed = true;
  #timer: ReturnType<typeof setInterval>;
  #files = new FileResultsBuilder(FILE_BATCH);

  constructor(
    filesTotal: number,
    workers: number,
    private readonly send: Post,
    private readonly bytesPerSecond: () => number,
  ) {
    this.#stats = {
      phase: "manifest",
      filesDone: 0,
      filesTotal,
      bytesDone: 0,
      bytesTotal: 0,
      bytesPerSecond: 0,
      workers,
      retries: 0,
      failures: 0,
    };
    this.#timer = setInterval(() => this.flush(), STATS_INTERVAL_MS);
  }

  /** Posts `message` to the coordinator, counting what it says. */
  post = (message: FromWorker): void => {
    const stats = this.#stats;
    switch (message.type) {
      case "phase":
        if (message.state === "start") stats.phase = message.phase;
        break;
      case "file":
        stats.filesDone++;
        if (message.result.status === "failed") stats.failures++;
        this.#changed = true;
        this.#files.add(message.result);
        if (this.#files.full) this.#sendFiles();
        return;
      case "workers":
        stats.workers = message.workers;
        break;
      case "error":
        stats.failures++;
        break;
    }
    this.#changed = true;
    this.#sendFiles();
    // The final stats go out before the destination says it is done.
    if (message.type === "done" || message.type === "failed") this.flush();
    this.send(message);
  };

  /**
   * Tells of a file copied or verified, as `post` tells a "file" message of one: the run's
   * every file is told this way, with no result object made for it.
   */
  fileDone(done: FileDone): void {
    this.#stats.filesDone++;
    this.#changed = true;
    this.#files.addDone(done);
    if (this.#files.full) this.#sendFiles();
  }

  #sendFiles(): void {
    if (this.#files.count === 0) return;
    this.send({ type: "files", results: this.#files.take() });
  }

  /** The work ahead: bytes to copy, and to read back again when verifying. */
  planned(bytes: number): void {
    this.#stats.bytesTotal = bytes;
    this.#changed = true;
  }

  /** Bytes written or read back. */
  add(bytes: number): void {
    this.#stats.bytesDone = Math.min(this.#stats.bytesTotal, this.#stats.bytesDone + bytes);
    this.#changed = true;
  }

  retried(): void {
    this.#stats.retries++;
    this.#changed = true;
  }

  /** Sends the file results waiting, then the stats if they changed. */
  flush(): void {
    this.#sendFiles();
    if (!this.#changed) return;
    this.#changed = false;
    this.send({
      type: "stats",
      stats: { ...this.#stats, bytesPerSecond: Math.round(this.bytesPerSecond()) },
    });
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

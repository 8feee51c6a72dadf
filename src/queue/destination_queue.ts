/**
 * The queue of one destination: a heap of FileTasks and a fixed number of copy slots that
 * pull from it. Every destination receives every file, so there is no work to share across
 * destinations; inside one, all slots pull from the one heap, so no slot idles while work
 * waits. A failed task is retried after a growing pause and keeps its place in the order.
 */
import { type FileTask, scoresHigher } from "./file_task.ts";
import { PriorityQueue } from "./priority_queue.ts";

export interface QueueOptions {
  /** Concurrent slots. */
  slots: number;
  /** Extra attempts after a failure. */
  retries: number;
  /** Pause before the first retry; it doubles on each further one. */
  retryPauseMs: number;
  /** Whether an error is worth another attempt. */
  retryable: (error: unknown) => boolean;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DestinationQueue {
  #heap = new PriorityQueue<FileTask>(scoresHigher);

  constructor(private readonly options: QueueOptions) {}

  get pending(): number {
    return this.#heap.size;
  }

  push(task: FileTask): void {
    this.#heap.push(task);
  }

  /**
   * Runs `work` on every queued task, `slots` at a time, until the queue is empty and no slot
   * is busy. A task whose attempts are spent, or whose error is not retryable, goes to
   * `onFailure` with its last error.
   */
  async drain(
    work: (task: FileTask) => Promise<void>,
    onFailure: (task: FileTask, error: unknown) => void,
  ): Promise<void> {
    const { slots, retries, retryPauseMs, retryable } = this.options;
    const sleep = this.options.sleep ?? realSleep;
    const slot = async () => {
      for (let task = this.#heap.pop(); task; task = this.#heap.pop()) {
        task.attempts++;
        try {
          await work(task);
        } catch (error) {
          if (task.attempts <= retries && retryable(error)) {
            await sleep(retryPauseMs * 2 ** (task.attempts - 1));
            this.#heap.push(task);
          } else {
            onFailure(task, error);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, slots) }, slot));
  }
}

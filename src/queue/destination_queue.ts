/**
 * The queue of one destination: a heap of tasks and copy slots that pull from it. A task may
 * be anything the order can rank (a FileTask, or just a file's index); the queue counts the
 * attempts of the tasks in hand itself, so 100,000 queued files cost no more than their
 * place in the heap.
 *
 * Work sharing: every destination must receive every file, so there is no work to steal
 * across destinations, and a destination's queue never waits for another's. Inside one
 * destination all slots pull from the one heap, so no slot idles while work waits. The slot
 * count can change while the queue drains (the ThroughputMonitor's recommendation): extra
 * slots start at once, surplus slots stop after their current file.
 *
 * A light task (a small file, read and written in memory and committed with a batch of
 * others) costs a slot so little that LIGHT_PER_SLOT of them share one: while light tasks
 * are next, the queue runs that many times the slot count. Their time is mostly waiting on
 * the source's disk, which answers more of them at once than one at a time.
 *
 * Read-ahead: with `ahead`, the next tasks in the order, up to `ahead.count`, are taken from
 * the heap early and told to `ahead.start` (which may have the kernel start reading their
 * file), then handed out first, in that order. A task is told once each time it comes up.
 *
 * The event loop's turn: a task may well never wait (a small file in the page cache, read and
 * written in plain calls), and then its slots run on in microtasks, where nothing that waits
 * on the event loop (a flush under way, a timer, a message) is heard of. So every slot gives
 * the loop a turn (nextTurn) once TURN_MS have passed since the last one.
 *
 * A failed task is retried after a growing pause and keeps its place in the order (the
 * order does not change with attempts); it comes after the tasks already read ahead.
 */
import { nextTurn, TURN_MS } from "../concurrency.ts";
import { PriorityQueue } from "./priority_queue.ts";

export interface QueueOptions<T> {
  /** Concurrent slots at the start. */
  slots: number;
  /** Extra attempts after a failure. */
  retries: number;
  /** Pause before the first retry; it doubles on each further one. */
  retryPauseMs: number;
  /** Whether an error is worth another attempt. */
  retryable: (error: unknown) => boolean;
  /** Heap order: true when `a` goes before `b` (see taskOrder). */
  before: (a: T, b: T) => boolean;
  /** Whether a task is light (see above); none is without it. */
  light?: (task: T) => boolean;
  /** The tasks to start early, and how many; none is without it. */
  ahead?: { count: number; start: (task: T) => void };
  /** Told of each retry, before its pause. */
  onRetry?: (task: T, error: unknown) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Does one attempt at `task`; `attempt` counts from 1. */
type Work<T> = (task: T, attempt: number) => Promise<void>;
/** Told of a task that failed for good, after `attempts` attempts. */
type OnFailure<T> = (task: T, error: unknown, attempts: number) => void;

/** Light tasks in flight per slot. */
export const LIGHT_PER_SLOT = 4;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DestinationQueue<T> {
  #heap: PriorityQueue<T>;
  /** Tasks taken from the heap early (read ahead), next in the order. */
  #ahead: T[] = [];
  #target: number;
  /** Slot loops alive, including those pausing before a retry. */
  #running = 0;
  #draining: { work: Work<T>; onFailure: OnFailure<T>; resolve: () => void } | null = null;
  #stopped = false;
  /** Attempts of the tasks that failed once and wait for another. */
  #attempts = new Map<T, number>();
  /** When the event loop last had a turn (performance.now()). */
  #turnAt = performance.now();

  constructor(private readonly options: QueueOptions<T>) {
    this.#heap = new PriorityQueue<T>(options.before);
    this.#target = Math.max(1, options.slots);
  }

  get pending(): number {
    return this.#heap.size + this.#ahead.length;
  }

  /** The slot count the queue runs at (or will, once surplus slots finish their file). */
  get slots(): number {
    return this.#target;
  }

  /** Tasks in hand right now (more than the slots while light ones are next). */
  get running(): number {
    return this.#running;
  }

  push(task: T): void {
    this.#heap.push(task);
  }

  /** Hands out no more tasks; slots finish (or abandon) the file in hand and end. */
  stop(): void {
    this.#stopped = true;
  }

  /** Changes the slot count; takes effect at once while draining. */
  setSlots(slots: number): void {
    this.#target = Math.max(1, slots);
    this.#fill();
  }

  /**
   * Runs `work` on every queued task until the queue is empty and no slot is busy. A task
   * whose attempts are spent, or whose error is not retryable, goes to `onFailure` with its
   * last error.
   */
  drain(work: Work<T>, onFailure: OnFailure<T>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#draining = { work, onFailure, resolve };
      this.#fill();
      if (this.#running === 0) this.#finish();
    });
  }

  #fill(): void {
    // A new slot of a stopped queue would end at once, and this loop never.
    if (!this.#draining || this.#stopped) return;
    while (this.#running < this.#limit() && this.pending > 0) {
      this.#running++;
      this.#slot(this.#draining.work, this.#draining.onFailure);
    }
  }

  async #slot(work: Work<T>, onFailure: OnFailure<T>): Promise<void> {
    const { retries, retryPauseMs, retryable } = this.options;
    const sleep = this.options.sleep ?? realSleep;
    for (;;) {
      // A surplus slot stops between files; the decrement is synchronous so two slots
      // never both see the surplus.
      const task = this.#stopped || this.#running > this.#limit() ? undefined : this.#take();
      if (task === undefined) break;
      const attempt = (this.#attempts.get(task) ?? 0) + 1;
      this.#attempts.delete(task);
      try {
        await work(task, attempt);
        if (performance.now() - this.#turnAt > TURN_MS) {
          await nextTurn();
          this.#turnAt = performance.now();
        }
      } catch (error) {
        if (attempt <= retries && retryable(error) && !this.#stopped) {
          this.options.onRetry?.(task, error);
          this.#attempts.set(task, attempt);
          await sleep(retryPauseMs * 2 ** (attempt - 1));
          this.#heap.push(task);
          this.#fill();
        } else {
          onFailure(task, error, attempt);
        }
      }
    }
    this.#running--;
    if (this.#running === 0) this.#finish();
  }

  /** The next task, after the tasks read ahead are topped up. */
  #take(): T | undefined {
    const { ahead } = this.options;
    if (!ahead) return this.#heap.pop();
    while (this.#ahead.length <= ahead.count && this.#heap.size > 0) {
      const task = this.#heap.pop()!;
      ahead.start(task);
      this.#ahead.push(task);
    }
    return this.#ahead.shift();
  }

  /** How many tasks may be in hand, given the one that comes next. */
  #limit(): number {
    const next = this.#ahead[0] ?? this.#heap.peek();
    const light = next !== undefined && this.options.light?.(next) === true;
    return light ? this.#target * LIGHT_PER_SLOT : this.#target;
  }

  #finish(): void {
    const draining = this.#draining;
    this.#draining = null;
    draining?.resolve();
  }
}

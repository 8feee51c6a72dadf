/**
 * Everything one destination does, in its own worker and at its own pace: Manifest (what it
 * needs), Copy (its queue and slots), Flush (fsync the folders it changed), Verify (read
 * every copy back from disk as soon as its own copying ends) and its records. It reports
 * through `post` only; it never waits for another destination.
 */
import { path } from "../deps.ts";
import { describeError, SourceChangedError, VerifyMismatchError } from "../errors.ts";
import type { DestinationJob, FileResult, FromWorker, ReadBack } from "../coordinator/messages.ts";
import { holds, planDestination } from "../coordinator/plan.ts";
import { copyFile } from "../copy/copy_strategy.ts";
import { fsyncFolder } from "../copy/durable.ts";
import { toNative } from "../relative_path.ts";
import { openCacheDropper } from "../verify/cache_drop.ts";
import { CHUNK_SIZE, hashFile } from "../verify/hashers.ts";
import { type ManifestEntry, readManifest, writeRecords } from "../verify/manifest.ts";
import { DestinationQueue } from "./destination_queue.ts";
import { StatsReporter } from "./destination_stats.ts";
import { type FileTask, taskOrder } from "./file_task.ts";
import { priorityMatcher } from "./priority_rules.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { ThroughputMonitor } from "./throughput_monitor.ts";

type Post = (message: FromWorker) => void;

/** Runs one destination's job to the end. Throws only on a bug; failures are posted. */
export async function runDestination(job: DestinationJob, post: Post): Promise<void> {
  using run = new DestinationRun(job, post);
  await run.execute();
}

/** Creates a folder; true if it was new (its parent then needs an fsync). */
async function createFolder(folder: string): Promise<boolean> {
  try {
    await Deno.mkdir(folder);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      if ((await Deno.stat(folder)).isDirectory) return false;
      throw new Error(`cannot create folder ${folder}: a file is in the way`);
    }
    throw error;
  }
}

/** Slot count a destination starts with under --workers auto. */
const AUTO_START_SLOTS = 4;
/** How often the ThroughputMonitor is asked for a slot count. */
const MONITOR_INTERVAL_MS = 500;

/** The copy and verify state of one destination's run. */
class DestinationRun implements Disposable {
  #buffers: Uint8Array[] = [];
  /** Files copied this run, for `attempts` in results. */
  #copies = new Map<FileTask, number>();
  /** Folders whose entries changed and must be fsynced. */
  #touched = new Set<string>();
  #monitor = new ThroughputMonitor({ now: () => performance.now() });
  #limiter: RateLimiter | null;
  #slots: number;
  /** The queue draining now (copy, then verify), whose slot count the monitor steers. */
  #active: DestinationQueue | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stats: StatsReporter;
  /** Every message to the coordinator goes through here, so the stats see it. */
  readonly post: Post;

  constructor(private readonly job: DestinationJob, post: Post) {
    this.#limiter = job.bwlimit === null ? null : new RateLimiter({ rate: job.bwlimit });
    this.#slots = job.workers === "auto" ? AUTO_START_SLOTS : job.workers;
    if (job.workers === "auto") {
      this.#timer = setInterval(() => this.#adaptSlots(), MONITOR_INTERVAL_MS);
    }
    this.#stats = new StatsReporter(
      job.files.length,
      this.#slots,
      post,
      () => this.#monitor.bytesPerSecond(),
    );
    this.post = this.#stats.post;
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    this.#stats[Symbol.dispose]();
  }

  /** Manifest, Copy, Flush, Verify, then the records; each phase announced. */
  async execute(): Promise<void> {
    const { job, post } = this;
    const root = job.destination;
    post({ type: "phase", phase: "manifest", state: "start" });
    let records: Map<string, ManifestEntry>;
    try {
      await createFolder(root);
      // The root may be new (made here, or by the run log just before): its entry in the
      // parent folder must be durable too.
      this.#touched.add(path.dirname(root));
      records = await readManifest(root);
    } catch (error) {
      post({ type: "failed", message: describeError(error) });
      return;
    }
    const plan = await planDestination(job.files, root, records);
    const bytes = plan.copy.reduce((sum, file) => sum + file.size, 0);
    this.#stats.planned(job.verify ? 2 * bytes : bytes);
    post({ type: "phase", phase: "manifest", state: "end", files: plan.copy.length, bytes });
    for (const record of plan.skip) {
      const { path: rel, size, sha256 } = record;
      post({ type: "file", result: { path: rel, size, status: "skipped", sha256, attempts: 0 } });
    }

    post({ type: "phase", phase: "copy", state: "start" });
    await this.#createFolders();
    const copied = await this.#copy(plan.copy);
    post({ type: "phase", phase: "copy", state: "end" });

    post({ type: "phase", phase: "flush", state: "start" });
    await this.#flush();
    post({ type: "phase", phase: "flush", state: "end" });

    let readBack: ReadBack | null = null;
    let good = copied;
    if (job.verify) {
      post({ type: "phase", phase: "verify", state: "start" });
      ({ readBack, verified: good } = await this.#verify(copied));
      post({ type: "phase", phase: "verify", state: "end" });
    } else {
      for (const task of copied) post({ type: "file", result: this.#result(task, "copied") });
    }

    try {
      await writeRecords(root, await nextRecords(job, records, plan.skip, good));
    } catch (error) {
      post({ type: "failed", message: `cannot write the records: ${describeError(error)}` });
      return;
    }
    post({ type: "done", readBack });
  }

  /** Follows the monitor's recommendation, and says so. */
  #adaptSlots(): void {
    const queue = this.#active;
    if (!queue) return;
    const decision = this.#monitor.recommend(queue.slots, queue.pending > 0);
    if (!decision) return;
    this.#slots = decision.slots;
    queue.setSlots(decision.slots);
    const { slots: workers, previous, bytesPerSecond, reason } = decision;
    this.post({ type: "workers", workers, previous, bytesPerSecond, reason });
  }

  /** Every chunk written or read back passes here: the bandwidth limit, then the count. */
  #pace = async (bytes: number): Promise<void> => {
    if (this.#limiter) await this.#limiter.take(bytes);
    this.#monitor.record(bytes);
    this.#stats.add(bytes);
  };

  /** Creates every source folder, parents first, empty ones too. */
  async #createFolders(): Promise<void> {
    for (const rel of this.job.folders) {
      const folder = toNative(this.job.destination, rel);
      try {
        if (await createFolder(folder)) this.#touched.add(path.dirname(folder));
      } catch (error) {
        this.post({ type: "error", path: rel, message: describeError(error) });
      }
    }
  }

  /** Copies `files`; returns the tasks that were copied (each with its source hash). */
  async #copy(files: DestinationJob["files"]): Promise<FileTask[]> {
    const queue = this.#queue();
    const addedAt = Date.now();
    const priorityOf = priorityMatcher(this.job.priorities);
    for (const file of files) {
      const sourcePath = toNative(this.job.source, file.path);
      queue.push({ sourcePath, file, priority: priorityOf(file.path), addedAt, attempts: 0 });
    }
    const copied: FileTask[] = [];
    await queue.drain(async (task) => {
      await this.#copyOne(task);
      copied.push(task);
    }, (task, error) => this.#fail(task, error));
    return copied;
  }

  /** Makes every changed folder entry durable: the renames of this run's copies. */
  async #flush(): Promise<void> {
    for (const folder of this.#touched) {
      try {
        await fsyncFolder(folder);
      } catch (error) {
        this.post({
          type: "error",
          message: `cannot flush folder ${folder}: ${describeError(error)}`,
        });
      }
    }
    this.#touched.clear();
  }

  /**
   * Reads every copied file back (from disk where the cache can be dropped) and compares its
   * hash with the source's. A mismatch is copied again and re-read, up to the retry limit.
   */
  async #verify(copied: FileTask[]): Promise<{ readBack: ReadBack; verified: FileTask[] }> {
    const dropper = await openCacheDropper(this.job.destination);
    let readBack = dropper.readBack;
    const queue = this.#queue();
    for (const task of copied) {
      task.attempts = 0;
      queue.push(task);
    }
    const verified: FileTask[] = [];
    await queue.drain(async (task) => {
      const target = toNative(this.job.destination, task.file.path);
      if (task.attempts > 1) {
        await this.#copyOne(task);
        await fsyncFolder(path.dirname(target));
      }
      if (!dropper.drop(target) && readBack.source === "disk") {
        readBack = {
          source: "cache",
          reason: "the page cache could not be dropped for some files",
        };
      }
      const { sha256, bytes } = await this.#withBuffer((buffer) =>
        hashFile(target, buffer, this.#pace)
      );
      if (bytes !== task.file.size || sha256 !== task.sha256) {
        throw new VerifyMismatchError(
          `the copy read back does not match the source (${bytes} bytes, sha256 ${sha256})`,
        );
      }
      task.verifiedAt = new Date().toISOString();
      verified.push(task);
      this.post({ type: "file", result: this.#result(task, "verified") });
    }, (task, error) => this.#fail(task, error));
    return { readBack, verified };
  }

  #result(task: FileTask, status: "copied" | "verified"): FileResult {
    const { path: rel, size } = task.file;
    return { path: rel, size, status, sha256: task.sha256, attempts: this.#copies.get(task) ?? 0 };
  }

  async #copyOne(task: FileTask): Promise<void> {
    this.#copies.set(task, (this.#copies.get(task) ?? 0) + 1);
    const target = toNative(this.job.destination, task.file.path);
    const { sha256 } = await this.#withBuffer((buffer) =>
      copyFile(task.sourcePath, task.file, target, buffer, this.#pace)
    );
    task.sha256 = sha256;
    this.#touched.add(path.dirname(target));
  }

  #fail(task: FileTask, error: unknown): void {
    const { path: rel, size } = task.file;
    this.post({
      type: "file",
      result: {
        path: rel,
        size,
        status: "failed",
        sha256: task.sha256,
        attempts: this.#copies.get(task) ?? 0,
        error: describeError(error),
      },
    });
  }

  #queue(): DestinationQueue {
    this.#active = new DestinationQueue({
      slots: this.#slots,
      retries: this.job.retries,
      retryPauseMs: this.job.retryPauseMs,
      retryable: (error) => !(error instanceof SourceChangedError),
      onRetry: () => this.#stats.retried(),
      before: taskOrder(this.job.order),
    });
    return this.#active;
  }

  /** Lends a chunk buffer; at most one per busy slot ever exists. */
  async #withBuffer<T>(use: (buffer: Uint8Array) => Promise<T>): Promise<T> {
    const buffer = this.#buffers.pop() ?? new Uint8Array(CHUNK_SIZE);
    try {
      return await use(buffer);
    } finally {
      this.#buffers.push(buffer);
    }
  }
}

/**
 * The records after this run: the unchanged files keep their entries, this run's good copies
 * get new ones, failed files get none, and entries of files no longer in the source stay
 * while the copy on the destination still holds.
 */
async function nextRecords(
  job: DestinationJob,
  records: Map<string, ManifestEntry>,
  unchanged: ManifestEntry[],
  good: FileTask[],
): Promise<ManifestEntry[]> {
  const inSource = new Set(job.files.map((file) => file.path));
  const next: ManifestEntry[] = [...unchanged];
  for (const [rel, record] of records) {
    if (!inSource.has(rel) && await holds(job.destination, record)) next.push(record);
  }
  for (const { file, sha256, verifiedAt } of good) {
    next.push({
      path: file.path,
      size: file.size,
      mtimeMs: file.mtimeMs,
      sha256: sha256!,
      verifiedAt: verifiedAt ?? null,
    });
  }
  return next;
}

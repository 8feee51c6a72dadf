/**
 * CommitBatch: makes many small copies durable at once. A copy written in full to its temp
 * file (CopyStrategy with `deferCommit`) is added here. When the batch is full, or a moment
 * after its first copy came, one flush of the destination's whole file system (syncfs) puts
 * every copy of the batch on the disk, and only then is each temp file renamed to its final
 * name. So a final name never holds a copy that is not on the disk, exactly as with one
 * fsync per file, for one flush per batch instead of one per file. If the flush fails, no
 * copy of the batch is renamed: each fails with the reason, and its temp file goes.
 *
 * Batches commit one after another, while the copy slots go on filling the next one. A
 * batch is only used on a local file system (whose syncfs covers every copy), so its renames
 * are synchronous calls: they return at memory speed there.
 */

/** One complete copy waiting for its commit. */
export interface PendingCopy {
  temp: string;
  target: string;
  bytes: number;
  /** Called once: without an error when the copy carries its final name. */
  settle: (error?: unknown) => void;
}

export interface BatchLimits {
  /** A batch commits once it holds this many copies… */
  files: number;
  /** …or this many bytes… */
  bytes: number;
  /** …or this long after its first copy came. */
  delayMs: number;
}

export const DEFAULT_LIMITS: BatchLimits = { files: 256, bytes: 64 * 2 ** 20, delayMs: 100 };

/** Why a batch failed when its flush did. */
export class CommitError extends Error {}

export class CommitBatch {
  #pending: PendingCopy[] = [];
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The commits so far, in order. */
  #chain: Promise<void> = Promise.resolve();

  /** `flushDisk` flushes the file system and says whether it could. */
  constructor(
    private readonly flushDisk: () => Promise<boolean>,
    private readonly limits: BatchLimits = DEFAULT_LIMITS,
  ) {}

  add(copy: PendingCopy): void {
    this.#pending.push(copy);
    this.#bytes += copy.bytes;
    if (this.#pending.length >= this.limits.files || this.#bytes >= this.limits.bytes) {
      this.#commit();
    } else {
      this.#timer ??= setTimeout(() => this.#commit(), this.limits.delayMs);
    }
  }

  /** Commits what is waiting; resolves once every copy added so far has settled. */
  flush(): Promise<void> {
    this.#commit();
    return this.#chain;
  }

  #commit(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#bytes = 0;
    this.#chain = this.#chain.then(() => this.#settle(batch));
  }

  async #settle(batch: PendingCopy[]): Promise<void> {
    const flushed = await this.flushDisk().catch(() => false);
    for (const copy of batch) {
      try {
        if (!flushed) {
          throw new CommitError(
            "the destination's file system could not be flushed to disk (syncfs failed)",
          );
        }
        Deno.renameSync(copy.temp, copy.target);
      } catch (error) {
        await Deno.remove(copy.temp).catch(() => {});
        copy.settle(error);
        continue;
      }
      copy.settle();
    }
  }
}

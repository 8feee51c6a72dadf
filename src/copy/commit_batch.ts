/**
 * CommitBatch: makes many small copies durable at once. A copy written in full to its temp
 * file (CopyStrategy with `deferCommit`) is added here. When the batch is full, or a moment
 * after its first copy came, one flush of the destination's whole file system (syncfs) puts
 * every copy of the batch on the disk, and only then is each temp file renamed to its final
 * name. So a final name never holds a copy that is not on the disk, exactly as with one
 * fsync per file, for one flush per batch instead of one per file. If the flush fails, no
 * copy of the batch is renamed: each fails with the reason, and its temp file goes.
 *
 * Batches commit one after another, while the copy slots go on filling the next one, up to
 * `waiting` batches ahead: a flush while others write takes long (syncfs writes whatever is
 * dirty by then), and copies that never wait would otherwise pile up uncommitted. A
 * batch is only used on a local file system (whose syncfs covers every copy), so its renames
 * are synchronous calls: they return at memory speed there. A copy waiting in a batch is its
 * id and its two paths in one buffer: 100,000 of them leave no garbage for a full GC.
 */

import { TextBuffer } from "../text_buffer.ts";

export interface BatchLimits {
  /** A batch commits once it holds this many copies… */
  files: number;
  /** …or this many bytes… */
  bytes: number;
  /** …or this long after its first copy came. */
  delayMs: number;
  /** Batches that may wait to be committed before `add` holds its caller back. */
  waiting: number;
}

/**
 * Measured with 3 destinations on one ext4 file system (README "Speed"): 100,000 files of
 * 0–4 KiB took 18.9–21.0 s with `--no-verify` at 1,024 files and 250 ms, against 22.3–23.5 s
 * at 256 files and 100 ms, for 3–6 MiB more memory; 4,096 files took 18.1–19.0 s but 20 MiB
 * more. Each syncfs makes the file system commit its journal, writing the same metadata
 * blocks again: such a run wrote 4.8 GiB to the disk instead of 6.9 GiB, for 0.6 GiB of copies.
 */
export const DEFAULT_LIMITS: BatchLimits = {
  files: 1024,
  bytes: 64 * 2 ** 20,
  delayMs: 250,
  waiting: 4,
};

/** Why a batch failed when its flush did. */
export class CommitError extends Error {}

export class CommitBatch {
  /**
   * The copies waiting, without an object or a string each (a batch lives long enough for
   * those to reach the old generation, which only a full GC empties): their ids, and their
   * temp and final paths as NUL-terminated UTF-8, one after the other in `#paths`.
   */
  #ids: number[] = [];
  #paths = new TextBuffer();
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The commits so far, in order. */
  #chain: Promise<void> = Promise.resolve();
  /** The commits not yet done, oldest first. */
  #unsettled: Promise<void>[] = [];

  /**
   * `flushDisk` flushes the file system and says whether it could; `settle` is told of each
   * copy once, without an error when it carries its final name; `rename` renames a temp file
   * given as C strings (libc) and says whether it could, a failure being tried again through
   * Deno, whose error tells why.
   */
  constructor(
    private readonly flushDisk: () => Promise<boolean>,
    private readonly settle: (id: number, error?: unknown) => void,
    private readonly limits: BatchLimits = DEFAULT_LIMITS,
    private readonly rename: ((temp: Uint8Array, target: Uint8Array) => boolean) | null = null,
  ) {}

  /**
   * Adds copy `id`, complete in `temp` (`bytes` long), to be renamed to `target`. With more
   * than `limits.waiting` batches waiting for their commit, it returns a promise of the oldest
   * one's: a caller that waits for it copies no further ahead of the disk's flushes.
   */
  add(id: number, temp: string, target: string, bytes: number): Promise<void> | undefined {
    this.#ids.push(id);
    this.#paths.append(temp, true);
    this.#paths.append(target, true);
    this.#bytes += bytes;
    if (this.#ids.length >= this.limits.files || this.#bytes >= this.limits.bytes) {
      this.#commit();
    } else {
      this.#timer ??= setTimeout(() => this.#commit(), this.limits.delayMs);
    }
    const unsettled = this.#unsettled;
    return unsettled.length > this.limits.waiting ? unsettled[0] : undefined;
  }

  /** Commits what is waiting; resolves once every copy added so far has settled. */
  flush(): Promise<void> {
    this.#commit();
    return this.#chain;
  }

  #commit(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#ids.length === 0) return;
    const ids = this.#ids;
    const paths = this.#paths.take();
    this.#ids = [];
    this.#bytes = 0;
    const commit = this.#chain.then(() => this.#settle(ids, paths));
    this.#chain = commit;
    this.#unsettled.push(commit);
    commit.then(() => this.#unsettled.shift());
  }

  async #settle(ids: number[], paths: Uint8Array): Promise<void> {
    const flushed = await this.flushDisk().catch(() => false);
    let at = 0;
    const next = () => {
      const end = paths.indexOf(0, at);
      const text = paths.subarray(at, end + 1);
      at = end + 1;
      return text;
    };
    for (const id of ids) {
      const temp = next();
      const target = next();
      try {
        if (!flushed) {
          throw new CommitError(
            "the destination's file system could not be flushed to disk (syncfs failed)",
          );
        }
        if (!this.rename?.(temp, target)) Deno.renameSync(text(temp), text(target));
      } catch (error) {
        await Deno.remove(text(temp)).catch(() => {});
        this.settle(id, error);
        continue;
      }
      this.settle(id);
    }
  }
}

const decoder = new TextDecoder();

/** The path in a NUL-terminated C string. */
function text(cString: Uint8Array): string {
  return decoder.decode(cString.subarray(0, cString.length - 1));
}

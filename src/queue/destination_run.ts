/**
 * Everything one destination does, in its own worker and at its own pace: Manifest (what it
 * needs), Copy (its queue and slots), Flush (fsync the folders it changed), Verify (read
 * every copy back from disk as soon as its own copying ends) and its records. It reports
 * through `post` only; it never waits for another destination.
 */
import { path, statfs } from "../deps.ts";
import { formatBytes } from "../format.ts";
import {
  describeError,
  destinationFatal,
  PathBlockedError,
  SourceChangedError,
  StopRequested,
  VerifyMismatchError,
} from "../errors.ts";
import type { DestinationJob, FileResult, FromWorker, ReadBack } from "../coordinator/messages.ts";
import { fileAt, type OpenFileTable, openFileTable } from "../coordinator/file_table.ts";
import {
  bytesNeeded,
  type DestinationPlan,
  planDestination,
  stillHeld,
} from "../coordinator/plan.ts";
import { copyFile, RESUME_MIN_BYTES } from "../copy/copy_strategy.ts";
import { CommitBatch, CommitError, DEFAULT_LIMITS } from "../copy/commit_batch.ts";
import { SharedChunks, TakenColumn } from "../copy/shared_chunks.ts";
import { ReadRequests } from "../copy/source_reader.ts";
import { fsyncFolder, removeStaleTemps, tempPathFor } from "../copy/durable.ts";
import { type FileSystemHandle, libcAtHand, openLibc } from "../libc.ts";
import { onLocalDisk } from "../local_disk.ts";
import { parentOf, toNative } from "../relative_path.ts";
import { openCacheDropper } from "../verify/cache_drop.ts";
import {
  CHUNK_SIZE,
  digestFile,
  digestText,
  type HashAlgorithm,
  type Hasher,
  HasherPool,
} from "../verify/hashers.ts";
import { DigestColumn } from "../verify/digest_column.ts";
import { type DirectReads, openDirectReads } from "../verify/direct_reads.ts";
import { JournalWriter } from "../verify/journal.ts";
import {
  type EntryParts,
  type ManifestEntry,
  readRecords,
  type RecordEntry,
  sortedByPath,
  writeRecords,
} from "../verify/manifest.ts";
import { DestinationQueue, type QueueOptions } from "./destination_queue.ts";
import { StatsReporter } from "./destination_stats.ts";
import { orderByStartScore, startScore, type TaskPriority } from "./file_task.ts";
import { priorityMatcher } from "./priority_rules.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { ThroughputMonitor } from "./throughput_monitor.ts";

type Post = (message: FromWorker) => void;

/** Creates a folder; true if it was new (its parent then needs an fsync). */
async function createFolder(folder: string): Promise<boolean> {
  try {
    await Deno.mkdir(folder);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    // lstat: a symlink here could lead the copies anywhere on the machine.
    const info = await Deno.lstat(folder);
    if (info.isDirectory) return false;
    throw new PathBlockedError(
      info.isSymlink
        ? `cannot use folder ${folder}: it is a symlink, and fanout never writes through one`
        : `cannot create folder ${folder}: a file is in the way`,
    );
  }
}

/** A file's state in this run (`#status`). */
const UNTOUCHED = 0;
/** Copied or verified this run, and not failed since. */
const GOOD = 1;
const FAILED = 2;

/** Slot count a destination starts with under --workers auto. */
const AUTO_START_SLOTS = 4;
/**
 * Under --workers auto, a destination whose files to copy are mostly smaller than this
 * starts with AUTO_SMALL_FILES_SLOTS instead: a small file's cost is its create, fsync and
 * rename, and those overlap across slots on any disk or link, while the climb from 4 would
 * take most of a short run (one step per 2 s).
 */
const SMALL_FILE_BYTES = 1024 * 1024;
const AUTO_SMALL_FILES_SLOTS = 8;
/** The chunk buffer of a file smaller than this (which one read then holds whole). */
const SMALL_BUFFER = 64 * 1024;
/** Files below this size are committed in batches where the file system allows it. */
const BATCH_FILE_BYTES = 8 * 1024 * 1024;
/**
 * Small files read ahead per destination (DestinationQueue's `ahead`) where every CPU has a
 * destination's worker to run: on their way from the disk at once, then read one after
 * another in plain calls, without the hand-off of each read to another thread and back (about
 * 30 µs; the CPU it frees is busy anyway). The small set's files, in the queue's order (by
 * size), read this way in C took 0.21 s cold with 32 ahead, against 0.49 s one after another.
 * With a CPU to spare, a read on a thread of its own overlaps the worker's writes instead.
 */
const READ_AHEAD = 32;
/**
 * Small files asked of the SourceReader ahead of the copy slots: it starts the kernel's read
 * of each (posix_fadvise) as it is asked, then reads them in turn, so this many are on their
 * way from the disk at once. The small set (5,000 files) to one destination, cold: with 32
 * ahead the reader came too late for 18–30% of them, which the destination then read and
 * hashed itself; with 256, for 2–4%, and the run took 0.95 s against 1.11 s (medians of 12
 * and 14 alternate runs; 128 and 512 gave 0.99 s). It holds no file open for them, only the
 * pages on their way (16 MiB at most), and its ring has room for READ_REQUESTS.
 */
const READER_AHEAD = 256;
/** Closes a file a read-ahead opened (Libc.openAhead), if `fd` is one. */
function closeAheadFd(fd: number): void {
  if (fd >= 0) libcAtHand()!.close(fd);
}

let lastTime = { ms: NaN, iso: "" };

/**
 * `ms` as an ISO time. A destination reads back a dozen small files in a millisecond, each
 * recorded with the time: the last one made is kept, since making one costs more than the
 * rest of a record.
 */
function isoTime(ms: number): string {
  if (lastTime.ms !== ms) lastTime = { ms, iso: new Date(ms).toISOString() };
  return lastTime.iso;
}

/**
 * A file's read-ahead (`#ahead`): under way, or under way after its pages were dropped, or
 * (a copy read back) under way from the disk into a slot of `#direct`.
 */
const AHEAD = 1;
const AHEAD_DROPPED = 2;
const AHEAD_DIRECT = 3;
/**
 * Slots of `#direct`: the read-ahead's, the one the queue tops it up with, and the read in
 * hand (10,000 files to three destinations: every read-back took one). A read-ahead that
 * finds none free goes through the page cache.
 */
const DIRECT_SLOTS = READ_AHEAD + 2;
/** How often the ThroughputMonitor is asked for a slot count. */
const MONITOR_INTERVAL_MS = 500;

/**
 * One destination's run. `execute` runs it to the end and throws only on a bug; failures
 * are posted.
 */
export class DestinationRun implements Disposable {
  /** Chunk buffers not in use: CHUNK_SIZE ones, and SMALL_BUFFER ones for small files. */
  #buffers: Uint8Array[] = [];
  #smallBuffers: Uint8Array[] = [];
  #hashers = new HasherPool();
  /** The source's files; everything below that is per file is in columns by its index. */
  #files: OpenFileTable;
  /** UNTOUCHED, GOOD or FAILED. */
  #status: Uint8Array;
  /** Copies made this run, for `attempts` in results. */
  #copies: Uint8Array;
  /** The digest of each file's source bytes, once copied (or as recorded, to re-read). */
  #digests: DigestColumn;
  /** When each file's read-back matched (ms since the epoch); 0 until it has. */
  #verifiedAt: Float64Array;
  /** Bytes a copy took over from an interrupted run's temp file, by file index. */
  #resumed = new Map<number, number>();
  /** The chunks every destination reads of the source, with several destinations. */
  #shared: SharedChunks | null;
  /** Bytes of each copy taken from another destination's read of the source (`#shared`). */
  #taken: TakenColumn;
  /**
   * With one destination and a CPU to spare, the small files this destination will copy and
   * then read back, asked of the SourceReader's thread: it leaves a source read and hashed in
   * `#shared`, a copy's read-back with its result.
   */
  #reads: ReadRequests | null;
  /** Folders whose entries changed and must be fsynced. */
  #touched = new Set<string>();
  /** The native path of each folder a copy went to, by its relative path: made once each. */
  #folderPaths = new Map<string, string>();
  #monitor = new ThroughputMonitor({ now: () => performance.now() });
  #limiter: RateLimiter | null;
  #slots: number;
  /** The queue draining now (copy, then verify), whose slot count the monitor steers. */
  #active: DestinationQueue<number> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stats: StatsReporter;
  #journal: JournalWriter;
  #stopping = false;
  /** Why the whole destination failed mid-run, once it has. */
  #aborted: string | null = null;
  /** Commits small copies in batches (one syncfs each), where the file system allows it. */
  #batch: CommitBatch | null = null;
  #fileSystem: FileSystemHandle | null = null;
  /** The destination is on a local file system (onLocalDisk), as the Manifest phase found. */
  #local = false;
  /** The files copied in the Copy phase so far, while it lasts. */
  #copied: number[] | null = null;
  /** Checks of failed commits for a reason that dooms the destination, under way. */
  #fatalChecks: Promise<void>[] = [];
  /** Links made or found in place this run (--links), as records. */
  #links: ManifestEntry[] = [];
  /** Folders that could not be made (a file or a symlink in the way), with the reason. */
  #blocked = new Map<string, string>();
  /** Null without --priority rules: then every file is "normal". */
  #priorityOf: ((path: string) => TaskPriority) | null = null;
  /** Each queued file's place in the queue's order, from its priority and size (startScore). */
  #scores: Float64Array;
  /** Whether each file's read is under way ahead of its turn: 0 or an AHEAD_ state. */
  #ahead: Uint8Array;
  /**
   * Each small file open since its read-ahead (Libc.openAhead), for its read, or with
   * AHEAD_DIRECT its slot of `#direct`; −1 for none.
   */
  #aheadFds: Int32Array;
  /** The Verify's reads of small copies from the disk, where the system has them. */
  #direct: DirectReads | null = null;
  /** Every message to the coordinator goes through here, so the stats see it. */
  readonly post: Post;

  constructor(private readonly job: DestinationJob, post: Post) {
    this.#limiter = job.bwlimit === null ? null : new RateLimiter({ rate: job.bwlimit });
    this.#files = openFileTable(job.files);
    const count = this.#files.count;
    this.#status = new Uint8Array(count);
    this.#copies = new Uint8Array(count);
    this.#digests = new DigestColumn(count);
    this.#verifiedAt = new Float64Array(count);
    this.#scores = new Float64Array(count);
    this.#ahead = new Uint8Array(count);
    this.#aheadFds = new Int32Array(count).fill(-1);
    this.#shared = job.chunks && new SharedChunks(job.chunks.memory, job.chunks.destination);
    this.#taken = new TakenColumn(count);
    this.#reads = job.reads && new ReadRequests(job.reads);
    this.#slots = job.workers === "auto" ? AUTO_START_SLOTS : job.workers;
    if (job.workers === "auto") {
      this.#timer = setInterval(() => this.#adaptSlots(), MONITOR_INTERVAL_MS);
    }
    this.#stats = new StatsReporter(
      count + job.links.length,
      this.#slots,
      post,
      () => this.#monitor.bytesPerSecond(),
    );
    this.post = this.#stats.post;
    this.#journal = new JournalWriter(
      job.destination,
      (message) => this.post({ type: "warning", message }),
    );
  }

  [Symbol.dispose](): void {
    this.#reads?.end();
    clearInterval(this.#timer);
    this.#fileSystem?.[Symbol.dispose]();
    this.#stats[Symbol.dispose]();
  }

  /**
   * Stops soon: no new file is started, the files in hand are abandoned (their temp files
   * removed), and what was completed is flushed and recorded before the run ends.
   */
  stop(): void {
    this.#stopping = true;
    this.#active?.stop();
  }

  /** Manifest, Copy, Flush, Verify, then the records; each phase announced. */
  async execute(): Promise<void> {
    const { job, post } = this;
    const root = job.destination;
    if (job.priorities.length > 0) this.#priorityOf = await priorityMatcher(job.priorities);
    const prepared = await this.#manifestPhase();
    if (!prepared) return;
    const { records, plan } = prepared;

    post({ type: "phase", phase: "copy", state: "start" });
    this.#openBatch();
    await this.#createFolders();
    await this.#copyLinks();
    const copied = await this.#copy(plan.copy);
    post({ type: "phase", phase: "copy", state: "end" });

    post({ type: "phase", phase: "flush", state: "start" });
    await this.#flush();
    post({ type: "phase", phase: "flush", state: "end" });

    let readBack: ReadBack | null = null;
    if (job.verify && !this.#stopping) {
      post({ type: "phase", phase: "verify", state: "start" });
      const rechecked = plan.recheck.map(({ index, record }) => {
        this.#digests.set(index, record);
        this.#prioritize(index);
        return index;
      });
      readBack = await this.#verify([...copied, ...rechecked]);
      post({ type: "phase", phase: "verify", state: "end" });
    }
    // Copies a stopped run did not read back. (With --no-verify each was told as it was
    // made, so that 100,000 results never wait here at once.)
    if (job.verify) {
      this.#status.forEach((status, index) => {
        if (status === GOOD && this.#verifiedAt[index] === 0) {
          this.#tellDone(index, "copied");
        }
      });
    }

    try {
      await this.#journal.close();
      const next = await this.#nextRecords(records, plan);
      await writeRecords(root, next, job.hash, { sorted: true });
    } catch (error) {
      // A destination that already failed (a full disk, say) may well refuse its records
      // too; its own reason is the one to tell.
      const reason = this.#aborted ?? `cannot write the records: ${describeError(error)}`;
      post({ type: "failed", message: reason });
      return;
    }
    if (this.#aborted) post({ type: "failed", message: this.#aborted });
    else post({ type: "done", readBack, stopped: this.#stopping });
  }

  /**
   * Manifest: reads the records, decides what to copy, clears what an earlier run left and
   * checks the free space. Null when the destination cannot go on (already posted).
   */
  async #manifestPhase(): Promise<
    { records: Map<string, ManifestEntry>; plan: DestinationPlan } | null
  > {
    const { job, post } = this;
    const root = job.destination;
    post({ type: "phase", phase: "manifest", state: "start" });
    let records: Map<string, ManifestEntry>;
    let plan: DestinationPlan;
    try {
      await createFolder(root);
      // The root may be new (made here, or by the run log just before): its entry in the
      // parent folder must be durable too.
      this.#touched.add(path.dirname(root));
      records = await readRecords(root);
      this.#local = await onLocalDisk(root);
      plan = await planDestination(this.#files, root, records, job.verify, this.#local);
      // A big file that will be copied again resumes from what an interrupted run wrote.
      const files = this.#files;
      const resumable = new Set(
        plan.copy.filter((index) => files.sizes[index] >= RESUME_MIN_BYTES).map((index) =>
          tempPathFor(toNative(root, files.path(index)))
        ),
      );
      const folders = [root, ...job.folders.map((rel) => toNative(root, rel))];
      const stale = await removeStaleTemps(folders, resumable, plan.temps);
      if (stale > 0) {
        post({ type: "warning", message: `removed ${stale} temp file(s) left by an earlier run` });
      }
    } catch (error) {
      this.#shared?.releaseAll();
      post({ type: "failed", message: describeError(error) });
      return null;
    }
    const shortfall = await this.#spaceShortfall(plan);
    if (shortfall) {
      this.#shared?.releaseAll();
      post({ type: "failed", message: shortfall });
      return null;
    }
    this.#releaseUncopied(plan.copy);
    const { sizes } = this.#files;
    const bytes = plan.copy.reduce((sum, index) => sum + sizes[index], 0);
    const small = plan.copy.filter((index) => sizes[index] < SMALL_FILE_BYTES).length;
    if (job.workers === "auto" && small > plan.copy.length / 2) {
      this.#slots = AUTO_SMALL_FILES_SLOTS;
    }
    const recheckBytes = plan.recheck.reduce((sum, { index }) => sum + sizes[index], 0);
    this.#stats.planned(job.verify ? 2 * bytes + recheckBytes : bytes);
    post({ type: "phase", phase: "manifest", state: "end", files: plan.copy.length, bytes });
    for (const { index, record } of plan.skip) {
      const { hash, digest } = record;
      const content = { hash, digest };
      post({ type: "file", result: { index, status: "skipped", content, attempts: 0 } });
    }
    return { records, plan };
  }

  /** Tells the other destinations this one will read none of the files but `copy`. */
  #releaseUncopied(copy: number[]): void {
    const shared = this.#shared;
    if (!shared) return;
    const copied = new Uint8Array(this.#files.count);
    for (const index of copy) copied[index] = 1;
    copied.forEach((wanted, index) => {
      if (wanted === 0) shared.release(index);
    });
  }

  /** Follows the monitor's recommendation, and says so. */
  #adaptSlots(): void {
    const queue = this.#active;
    if (!queue) return;
    const decision = this.#monitor.recommend(queue.slots, queue.pending > 0);
    if (!decision) return;
    this.#slots = decision.slots;
    queue.setSlots(decision.slots);
    const { slots: workers, previous, bytesPerSecond, filesPerSecond, reason } = decision;
    this.post({ type: "workers", workers, previous, bytesPerSecond, filesPerSecond, reason });
  }

  /**
   * Every chunk written or read back passes here: the bandwidth limit, then the count. A
   * promise only when there is a limit to wait for: a small file's copy would otherwise make
   * one, and wait a turn for it, for nothing.
   */
  #pace = (bytes: number): Promise<void> | undefined => {
    if (this.#stopping) throw new StopRequested();
    if (this.#limiter) return this.#limiter.take(bytes).then(() => this.#count(bytes));
    this.#count(bytes);
  };

  /** Counts `bytes` done (written, or read back) for the monitor and the progress. */
  #count(bytes: number): void {
    this.#monitor.record(bytes);
    this.#stats.add(bytes);
  }

  /** Creates every source folder, parents first, empty ones too. */
  async #createFolders(): Promise<void> {
    for (const rel of this.job.folders) {
      if (this.#blockedFolder(rel)) continue;
      const folder = toNative(this.job.destination, rel);
      try {
        if (await createFolder(folder)) this.#touched.add(path.dirname(folder));
      } catch (error) {
        this.#blocked.set(rel, describeError(error));
        this.post({ type: "error", path: rel, message: describeError(error) });
      }
    }
  }

  /**
   * Copies the source's symlinks as symlinks (--links): the target text as it is, never
   * followed; made under a temp name and renamed into place like any copy. A link that is
   * already there with the same target is left alone.
   */
  async #copyLinks(): Promise<void> {
    const { destination: root, hash } = this.job;
    const first = this.#files.count;
    for (const [k, { path: rel, target }] of this.job.links.entries()) {
      if (this.#stopping) return;
      const digest = await this.#hashers.lend(
        hash,
        (hasher) => Promise.resolve(digestText(hasher, target)),
      );
      const entry: ManifestEntry = {
        path: rel,
        size: 0,
        mtimeMs: 0,
        hash,
        digest,
        verifiedAt: null,
        link: target,
      };
      const result = { index: first + k, content: { hash, digest }, link: target };
      const native = toNative(root, rel);
      try {
        const blocked = this.#blockedFolder(parentOf(rel));
        if (blocked) throw new PathBlockedError(blocked);
        if (await Deno.readLink(native).catch(() => null) === target) {
          this.#links.push({ ...entry, verifiedAt: new Date().toISOString() });
          this.post({ type: "file", result: { ...result, status: "skipped", attempts: 0 } });
          continue;
        }
        const temp = tempPathFor(native);
        await Deno.remove(temp).catch(() => {});
        await Deno.symlink(target, temp);
        await Deno.rename(temp, native);
        this.#touched.add(path.dirname(native));
        // The read-back of a link is its target, read from the folder.
        const readBack = await Deno.readLink(native);
        if (readBack !== target) {
          throw new VerifyMismatchError(`the link reads back as ${readBack}`);
        }
        const verifiedAt = this.job.verify ? new Date().toISOString() : null;
        this.#links.push({ ...entry, verifiedAt });
        const status = this.job.verify ? "verified" : "copied";
        this.post({ type: "file", result: { ...result, status, attempts: 1 } });
      } catch (error) {
        this.post({
          type: "file",
          result: { ...result, status: "failed", attempts: 1, error: describeError(error) },
        });
      }
    }
  }

  /** Why a folder (or one above it) cannot hold files, or undefined. */
  #blockedFolder(rel: string): string | undefined {
    for (let at = rel.length; at > 0; at = rel.lastIndexOf("/", at - 1)) {
      const reason = this.#blocked.get(rel.slice(0, at));
      if (reason) return reason;
    }
    return undefined;
  }

  /**
   * Commits small copies in batches if this destination's file system can flush them all at
   * once: Linux 5.8 or later (whose syncfs reports a failed write), a local file system,
   * and libc at hand. Otherwise each copy keeps its own fsync.
   */
  #openBatch(): void {
    const libc = openLibc();
    if (typeof libc === "string" || !syncfsReportsErrors()) return;
    // Not local, or not to be looked at (it then fails at its first copy, with its reason).
    if (!this.#local) return;
    this.#fileSystem = libc.openFileSystem(this.job.destination);
    const fileSystem = this.#fileSystem;
    if (!fileSystem) return;
    this.#batch = new CommitBatch(
      () => fileSystem.sync(),
      (index, error) => this.#settled(index, error),
      DEFAULT_LIMITS,
      (temp, target) => libc.rename(temp, target),
    );
  }

  /** Copies the files at `indices`; returns those that were copied. */
  async #copy(indices: number[]): Promise<number[]> {
    // A small file of a local source is read ahead (one of a NAS is read on a thread of its
    // own, several at once).
    const queue = this.#queue(
      this.job.sourceLocal ? this.#readAhead(this.job.source, false) : undefined,
    );
    for (const index of indices) {
      this.#prioritize(index);
      queue.push(index);
    }
    const copied: number[] = [];
    this.#copied = copied;
    // A retry reads the source itself: what another destination read is for first attempts.
    await queue.drain(
      this.#guarded(async (index, attempt) => {
        const fd = this.#takeAheadFd(index);
        try {
          await this.#copyOne(index, true, attempt === 1, fd);
        } finally {
          closeAheadFd(fd);
        }
      }),
      (index, error) => this.#fail(index, error),
    );
    this.#closeAheadFds();
    this.#shared?.releaseAll();
    await this.#batch?.flush();
    await Promise.all(this.#fatalChecks);
    this.#copied = null;
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
  async #verify(indices: number[]): Promise<ReadBack> {
    const dropper = await openCacheDropper(this.job.destination);
    let readBack = dropper.readBack;
    // A small copy is read ahead from the disk, its pages dropped first: by DirectReads where
    // the system has them, however many destinations and CPUs there are.
    const fromDisk = dropper.readBack.source === "disk";
    if (fromDisk && this.#batch !== null && libcAtHand()) {
      this.#direct = openDirectReads(DIRECT_SLOTS, SMALL_BUFFER);
    }
    const queue = this.#queue(fromDisk ? this.#readAhead(this.job.destination, true) : undefined);
    for (const index of indices) queue.push(index);
    await queue.drain(
      this.#guarded(async (index, attempt) => {
        // What was read ahead is the copy before this attempt, which a retry makes anew.
        const state = this.#ahead[index];
        let ahead = attempt === 1 && state === AHEAD_DROPPED;
        this.#ahead[index] = 0;
        // The copy, open since its read-ahead: read from it, then closed, read or not.
        let fd = this.#takeAheadFd(index);
        if (state === AHEAD_DIRECT) {
          const slot = fd;
          fd = -1;
          // Anything but a match is read again by name, for the reason to be found and told.
          if (attempt === 1 && this.#readBackDirect(index, slot)) return;
          if (attempt > 1) this.#direct!.release(slot);
        }
        try {
          if (ahead && fd >= 0) {
            if (this.#readBackNow(index, fd)) return;
            // Read again, by name, for the reason to be found and told.
            closeAheadFd(fd);
            fd = -1;
            ahead = false;
          }
          const target = toNative(this.job.destination, this.#files.path(index));
          if (attempt > 1) {
            await this.#copyOne(index);
            await fsyncFolder(path.dirname(target));
          }
          const hash = this.#digests.algorithm(index)!;
          const size = this.#files.sizes[index];
          const local = this.#batch !== null;
          // A read from the disk: the copy's pages are dropped from the cache first (even
          // after some other copy's could not be, which the read-back then says).
          const drop = dropper.readBack.source === "disk" ? dropper.drop : undefined;
          // Read back by the SourceReader, if it was asked to and could.
          const back = attempt === 1 ? await this.#reads?.readBack(index) : null;
          if (back) await this.#pace(back.bytes);
          const { digest, bytes, dropped } = back ?? await this.#withSlot(
            hash,
            size,
            (buffer, hasher) =>
              digestFile(target, buffer, hasher, this.#pace, {
                local,
                size,
                drop,
                ahead,
                fd: ahead ? fd : -1,
              }),
          );
          if (!dropped && readBack.source === "disk") {
            readBack = {
              source: "cache",
              reason: "the page cache could not be dropped for some files",
            };
          }
          if (bytes !== size || !this.#digests.holds(index, { hash, digest })) {
            throw new VerifyMismatchError(
              `the copy read back does not match the source (${bytes} bytes, ${hash} ${digest})`,
            );
          }
          this.#verified(index);
        } finally {
          closeAheadFd(fd);
        }
      }),
      (index, error) => this.#fail(index, error),
    );
    this.#closeAheadFds();
    this.#direct?.[Symbol.dispose]();
    this.#direct = null;
    this.#reads?.end();
    return readBack;
  }

  /**
   * Reads back, hashes and checks in plain calls a small copy read ahead from the disk (its
   * pages dropped first, open as `fd` since): the Verify's usual way, without its layers of
   * promises, which cost a small file more than its read and its hash (see #checkBack).
   * `fd` is left open.
   */
  #readBackNow(index: number, fd: number): boolean {
    const libc = libcAtHand();
    if (!libc) return false;
    const buffer = this.#smallBuffers.pop() ?? new Uint8Array(SMALL_BUFFER);
    try {
      const read = libc.readOpen(fd, buffer, this.#files.sizes[index]);
      // Whole: as many bytes as the file held after the read.
      return read !== null && read.bytes === read.size &&
        this.#checkBack(index, buffer.subarray(0, read.bytes));
    } finally {
      this.#smallBuffers.push(buffer);
    }
  }

  /** #readBackNow of a small copy whose read from the disk (DirectReads) started in `slot`. */
  #readBackDirect(index: number, slot: number): boolean {
    const direct = this.#direct!;
    try {
      return this.#checkBack(index, direct.finish(slot));
    } finally {
      direct.release(slot);
    }
  }

  /**
   * Hashes and checks `bytes`, a small copy read back whole, in plain calls. True if the copy
   * was verified; anything else (a failed read, a size or a digest that differs, a stop, a
   * bandwidth limit, a hasher still to be made) is left to the usual way, which reads the
   * copy again and tells why.
   */
  #checkBack(index: number, bytes: Uint8Array | null): boolean {
    const hash = this.#digests.algorithm(index);
    const size = this.#files.sizes[index];
    if (!bytes || bytes.length !== size || !hash) return false;
    if (this.#limiter || this.#stopping) return false;
    const hasher = this.#hashers.takeNow(hash);
    if (!hasher) return false;
    try {
      hasher.update(bytes);
      if (!this.#digests.holds(index, { hash, digest: hasher.digest() })) return false;
    } finally {
      this.#hashers.give(hasher);
    }
    this.#count(size);
    this.#verified(index);
    return true;
  }

  /** A copy read back and found to be the source's bytes. */
  #verified(index: number): void {
    this.#verifiedAt[index] = Date.now();
    this.#status[index] = GOOD;
    this.#journal.add(this.#recordParts(index));
    this.#monitor.fileDone();
    this.#tellDone(index, "verified");
  }

  /**
   * `work`, and if it fails for a reason that dooms the whole destination (a full disk, a
   * read-only or vanished destination), the destination stops at once with that reason.
   */
  #guarded(
    work: (index: number, attempt: number) => Promise<void>,
  ): (index: number, attempt: number) => Promise<void> {
    return async (index, attempt) => {
      try {
        await work(index, attempt);
      } catch (error) {
        await this.#abortIfFatal(error);
        throw error;
      }
    };
  }

  /** Stops the whole destination if `error` dooms it, with that reason. */
  async #abortIfFatal(error: unknown): Promise<void> {
    if (error instanceof StopRequested || this.#aborted) return;
    const reason = error instanceof CommitError
      ? "the copies could not be made durable"
      : destinationFatal(error) ??
        (await exists(this.job.destination)
          ? null
          : "the destination folder is gone (unmounted or deleted?)");
    if (reason && !this.#aborted) {
      this.#aborted = `${reason}: ${describeError(error)}`;
      this.stop();
    }
  }

  /** Why the destination cannot hold what the plan copies, or null (also when unknown). */
  async #spaceShortfall(plan: DestinationPlan): Promise<string | null> {
    if (plan.copy.length === 0) return null;
    if (Deno.permissions.querySync({ name: "sys", kind: "statfs" }).state !== "granted") {
      this.post({
        type: "warning",
        message: "free space not checked: --allow-sys was not granted",
      });
      return null;
    }
    const info = await statfs(this.job.destination);
    const free = info.bavail * info.bsize;
    const needed = bytesNeeded(plan, this.#files, info.bsize);
    if (needed <= free) return null;
    return `not enough free space: the copies need ${
      formatBytes(needed)
    } (${needed} bytes), the destination has ${formatBytes(free)} (${free} bytes) free`;
  }

  /** Works out the priority of the file at `index`, and its score, before it is queued. */
  #prioritize(index: number): void {
    const priority = this.#priorityOf?.(this.#files.path(index)) ?? "normal";
    this.#scores[index] = startScore(priority, this.#files.sizes[index], this.job.order);
  }

  /** Tells the coordinator of a file copied or verified (which has its digest by then). */
  #tellDone(index: number, status: "copied" | "verified"): void {
    this.#stats.fileDone({
      index,
      status,
      attempts: this.#copies[index],
      hash: this.#digests.algorithm(index)!,
      digestBytes: this.#digests.bytes(index)!,
      shared: this.#taken.get(index, this.#files.sizes[index]),
      resumed: this.#resumed.get(index) ?? 0,
    });
  }

  /** A file's hash for its result, once it has one. */
  #content(index: number): Pick<FileResult, "content"> {
    const content = this.#digests.get(index);
    return content === undefined ? {} : { content };
  }

  /** The record of a file copied (or verified) this run, for the journal and the records. */
  #recordParts(index: number): EntryParts {
    const verifiedAt = this.#verifiedAt[index];
    return {
      pathBytes: this.#files.pathBytes(index),
      size: this.#files.sizes[index],
      mtimeMs: this.#files.mtimes[index],
      hash: this.#digests.algorithm(index)!,
      digestBytes: this.#digests.bytes(index)!,
      verifiedAt: verifiedAt === 0 ? null : isoTime(verifiedAt),
    };
  }

  /**
   * Copies one file. In the Copy phase (`copying`), a small one may be left to the batch,
   * which commits it later; the file joins `#copied` once it carries its final name (at once
   * without a batch); a batch that fails fails the file itself. With `share`, chunks the
   * other destinations read of the source are taken instead of read again, and what this copy
   * reads is left there for them.
   */
  async #copyOne(index: number, copying = false, share = false, sourceFd = -1): Promise<void> {
    this.#copies[index] = Math.min(255, this.#copies[index] + 1);
    const rel = this.#files.path(index);
    const blocked = this.#blockedFolder(parentOf(rel));
    if (blocked) throw new PathBlockedError(blocked);
    const file = fileAt(this.#files, index, rel);
    const source = toNative(this.job.source, file.path);
    const target = toNative(this.job.destination, file.path);
    // A copy gets the run's hash, even of a file whose record had another.
    const { hash } = this.job;
    const batch = copying && file.size < BATCH_FILE_BYTES ? this.#batch : null;
    const pace = this.#pace;
    const shared = share && this.#shared ? { chunks: this.#shared, file: index } : undefined;
    const { digest, resumed, temp, taken } = await this.#withSlot(
      hash,
      file.size,
      (buffer, hasher) =>
        copyFile(source, file, target, buffer, hasher, {
          pace,
          deferCommit: batch !== null,
          shared,
          localSource: this.job.sourceLocal,
          sourceAhead: this.#ahead[index] === AHEAD,
          sourceFd,
        }),
    );
    if (resumed > 0) this.#resumed.set(index, resumed);
    // What the SourceReader read was read for this destination, not by another one.
    this.#taken.set(index, file.size, this.#reads ? 0 : taken);
    // Read: the others need not keep its chunks for this destination.
    this.#shared?.release(index);
    this.#digests.set(index, { hash, digest });
    if (!batch || !temp) {
      this.#committed(index);
      if (copying) this.#copied?.push(index);
      return;
    }
    await batch.add(index, temp, target, file.size);
  }

  /** The batch's word on the copy of the file at `index`. */
  #settled(index: number, error?: unknown): void {
    if (error === undefined) {
      this.#committed(index);
      this.#copied?.push(index);
      return;
    }
    this.#fail(index, error);
    this.#fatalChecks.push(this.#abortIfFatal(error));
  }

  /** A copy carries its final name; without a read-back to come, that is its result. */
  #committed(index: number): void {
    this.#verifiedAt[index] = 0;
    const parent = parentOf(this.#files.path(index));
    let folder = this.#folderPaths.get(parent);
    if (folder === undefined) {
      folder = toNative(this.job.destination, parent);
      this.#folderPaths.set(parent, folder);
    }
    this.#touched.add(folder);
    this.#status[index] = GOOD;
    this.#journal.add(this.#recordParts(index));
    this.#monitor.fileDone();
    if (!this.job.verify) this.#tellDone(index, "copied");
  }

  #fail(index: number, error: unknown): void {
    // A file abandoned because the run is stopping is not a failure: it is simply not done.
    if (error instanceof StopRequested) {
      this.#status[index] = UNTOUCHED;
      return;
    }
    this.#status[index] = FAILED;
    this.post({
      type: "file",
      result: {
        index,
        status: "failed",
        ...this.#content(index),
        attempts: this.#copies[index],
        error: describeError(error),
      },
    });
  }

  /**
   * The queue's read-ahead (READ_AHEAD files) of the small files under `root` (the source, or
   * this destination, whose copies' pages are dropped first with `drop`), noted in `#ahead`;
   * none unless this destination commits in batches (a local disk), the run has as many
   * destinations as CPUs or more, and libc is at hand. A copy is read from the disk through
   * `#direct` where the system has it (then with any number of destinations), else through
   * the page cache. With a SourceReader, small files (a source's, or a copy's to read back
   * by the run's hash, if not through `#direct`) are asked of it instead, READER_AHEAD of them:
   * the small set's 20,000 files to one destination were read back in 0.85–1.10 s through
   * `#direct` against 1.28–1.59 s by the reader, which could not keep up with the queue (a
   * third of them were read by the destination itself, through the page cache); 4 alternate
   * cold runs each, the whole run 3.38 s against 3.71 s (medians of 8).
   */
  #readAhead(root: string, drop: boolean): QueueOptions<number>["ahead"] {
    const reads = this.#reads;
    const direct = drop && this.#direct !== null;
    if (reads && this.#batch !== null && !direct) {
      return {
        count: READER_AHEAD,
        start: (index) => {
          const size = this.#files.sizes[index];
          if (size === 0 || size >= SMALL_BUFFER) return;
          // A read-back by the run's hash (a recheck may have another).
          if (drop && this.#digests.algorithm(index) === this.job.hash) reads.askBack(index);
          else if (!drop && this.#files.sparse[index] === 0) reads.ask(index);
        },
      };
    }
    const libc = libcAtHand();
    if (
      !libc || this.#batch === null ||
      (this.job.destinations < navigator.hardwareConcurrency && !direct)
    ) {
      return undefined;
    }
    // One destination starts a source file's read ahead; the others' reads find it started.
    const shared = drop ? null : this.#shared;
    const start = (index: number) => {
      const size = this.#files.sizes[index];
      if (size >= SMALL_BUFFER) return;
      if (shared && !shared.firstAhead(index)) {
        this.#ahead[index] = AHEAD;
        return;
      }
      const file = toNative(root, this.#files.path(index));
      const slot = drop && this.#direct ? this.#direct.start(file, size) : null;
      if (slot !== null) {
        this.#ahead[index] = AHEAD_DIRECT;
        this.#aheadFds[index] = slot;
        return;
      }
      // Kept open for its read; a copy read back leaves its access time as it was.
      const opened = libc.openAhead(file, drop, drop);
      this.#ahead[index] = !opened ? 0 : opened.dropped ? AHEAD_DROPPED : AHEAD;
      this.#aheadFds[index] = opened?.fd ?? -1;
    };
    return { count: READ_AHEAD, start };
  }

  /** The file at `index` as its read-ahead opened it, now the caller's to close; −1 for none. */
  #takeAheadFd(index: number): number {
    const fd = this.#aheadFds[index];
    this.#aheadFds[index] = -1;
    return fd;
  }

  /** Closes the files read ahead whose turn did not come (the run was stopped). */
  #closeAheadFds(): void {
    this.#aheadFds.forEach((fd, index) => {
      if (fd < 0) return;
      if (this.#ahead[index] === AHEAD_DIRECT) this.#direct!.release(fd);
      else closeAheadFd(fd);
      this.#aheadFds[index] = -1;
    });
  }

  /** A queue of this run's files; `ahead` starts a file's read ahead of its turn. */
  #queue(ahead?: QueueOptions<number>["ahead"]): DestinationQueue<number> {
    this.#active = new DestinationQueue<number>({
      ahead,
      slots: this.#slots,
      retries: this.job.retries,
      retryPauseMs: this.job.retryPauseMs,
      retryable: (error) =>
        !(error instanceof SourceChangedError || error instanceof PathBlockedError) &&
        !destinationFatal(error),
      onRetry: () => this.#stats.retried(),
      // Under --workers auto, a small file on a destination that commits in batches, read
      // and written whole in memory (copy) or read whole (read-back), waits on the disk
      // mostly. A number of workers given is kept to exactly.
      light: (index) =>
        this.job.workers === "auto" && this.#batch !== null &&
        this.#files.sizes[index] < SMALL_BUFFER,
      // Every file enters the queue at the run's start (addedAt 0): none overtakes another
      // by waiting, and a retry keeps its place.
      before: orderByStartScore(this.#scores, this.#files.ranks),
    });
    return this.#active;
  }

  /**
   * The records after this run, sorted by path and made one at a time as they are written:
   * unchanged files keep their entries; files copied or verified this run get new ones
   * (unverified if the run stopped before their read-back); files that failed get none;
   * files left for a read-back that never came keep theirs; entries of files no longer in
   * the source stay while the copy on the destination still holds.
   */
  async #nextRecords(
    records: Map<string, ManifestEntry>,
    plan: DestinationPlan,
  ): Promise<Iterable<RecordEntry>> {
    // The files of this run, by index, in path order (their ranks); any other record by its
    // path; the two merged.
    const files = this.#files;
    const indices: number[] = [];
    this.#status.forEach((status, index) => {
      if (status === GOOD) indices.push(index);
    });
    indices.sort((a, b) => files.ranks[a] - files.ranks[b]);
    const kept: ManifestEntry[] = [...plan.skip.map(({ record }) => record), ...this.#links];
    for (const { index, record } of plan.recheck) {
      if (this.#status[index] === UNTOUCHED) kept.push(record);
    }
    if (records.size > 0) {
      const inSource = new Set(this.job.links.map((link) => link.path));
      for (let index = 0; index < files.count; index++) inSource.add(files.path(index));
      const gone = [...records.values()].filter((record) => !inSource.has(record.path));
      const held = await stillHeld(this.job.destination, gone, this.#local);
      for (const record of held) kept.push(record);
    }
    return this.#merged(indices, sortedByPath(kept));
  }

  /**
   * The records of the files at `indices` (in path order), made from their columns as they
   * are asked for, merged with `others` (sorted by path).
   */
  *#merged(indices: number[], others: ManifestEntry[]): Generator<RecordEntry> {
    let k = 0;
    for (const index of indices) {
      if (k < others.length) {
        const rel = this.#files.path(index);
        while (k < others.length && others[k].path < rel) yield others[k++];
      }
      yield this.#recordParts(index);
    }
    while (k < others.length) yield others[k++];
  }

  /**
   * Lends a chunk buffer for a file of `size` bytes and an initialized hasher for `hash`; at
   * most one of each per busy slot ever exists. A small file gets a small buffer, which it
   * fills in one read: a run of small files never touches the pages of a big one.
   */
  async #withSlot<T>(
    hash: HashAlgorithm,
    size: number,
    use: (buffer: Uint8Array, hasher: Hasher) => Promise<T>,
  ): Promise<T> {
    const pool = size < SMALL_BUFFER ? this.#smallBuffers : this.#buffers;
    const buffer = pool.pop() ?? new Uint8Array(size < SMALL_BUFFER ? SMALL_BUFFER : CHUNK_SIZE);
    // The hasher is taken here rather than lent (HasherPool.lend): one frame fewer a file,
    // and no wait unless it is still to be made.
    let hasher: Hasher | null = null;
    try {
      const taken = this.#hashers.take(hash);
      hasher = taken instanceof Promise ? await taken : taken;
      return await use(buffer, hasher);
    } finally {
      if (hasher) this.#hashers.give(hasher);
      pool.push(buffer);
    }
  }
}

/**
 * Whether this kernel's syncfs reports a write that failed in the background: Linux 5.8 and
 * later. Before, it returned success regardless, which a commit cannot trust.
 */
function syncfsReportsErrors(): boolean {
  if (Deno.build.os !== "linux") return false;
  if (Deno.permissions.querySync({ name: "sys", kind: "osRelease" }).state !== "granted") {
    return false;
  }
  const [major, minor] = Deno.osRelease().split(".").map((part) => parseInt(part, 10));
  return major > 5 || (major === 5 && minor >= 8);
}

async function exists(folder: string): Promise<boolean> {
  try {
    return (await Deno.stat(folder)).isDirectory;
  } catch {
    return false;
  }
}

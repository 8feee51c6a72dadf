/**
 * BackupCoordinator: the brain of a run. It checks the layout, starts one Web Worker per
 * destination (which loads while the rest goes on), analyzes the source, gives each worker its
 * job and then only gathers what they report: events for the renderer, the cross-destination
 * source check, the summary and the exit code. Nothing a destination does waits for another.
 */
import { ExitCode } from "../errors.ts";
import { digestField, type HashAlgorithm } from "../verify/hashers.ts";
import { forEachFileResult } from "../queue/file_results.ts";
import { readManifest, writeRecords } from "../verify/manifest.ts";
import type {
  BackupSummary,
  DestinationSummary,
  EventSink,
  FailedFile,
  RunEvent,
} from "./events.ts";
import { DestinationLogs } from "./run_log.ts";
import { checkLayout, type Layout } from "./layout.ts";
import { DestinationLock } from "./lock.ts";
import type {
  DestinationJob,
  FileResult,
  FromWorker,
  PriorityRule,
  ReadBack,
  ToWorker,
} from "./messages.ts";
import type { TaskOrder } from "../queue/file_task.ts";
import { scanSource, type SourceTree } from "./scan.ts";
import { onLocalDisk } from "../local_disk.ts";
import { libcAtHand } from "../libc.ts";
import { type FilterRules, pathFilter } from "./filter.ts";
import { ProgressAggregator } from "./progress.ts";
import { SourceConsistency } from "./source_consistency.ts";
import {
  type OpenFileTable,
  openFileTable,
  type SharedFileTable,
  shareFileTable,
} from "./file_table.ts";
import { type SharedChunksMemory, sharedChunksMemory, TakenColumn } from "../copy/shared_chunks.ts";
import {
  type ReadRequestsMemory,
  readRequestsMemory,
  type SourceReaderJob,
} from "../copy/source_reader.ts";

export interface BackupSettings {
  source: string;
  /** Destinations as the user gave them; events and the summary name them so. */
  destinations: string[];
  /** Slots for each destination (same order as `destinations`), or "auto". */
  workers: (number | "auto")[];
  retries: number;
  retryPauseMs: number;
  verify: boolean;
  order: TaskOrder;
  priorities: PriorityRule[];
  /** Bytes per second for each destination (same order as `destinations`); null: no limit. */
  limits: (number | null)[];
  /** Run logs kept in each destination's .fanout/logs; 0 writes none. */
  keepLogs: number;
  /** Copy symlinks as links instead of skipping them. */
  links: boolean;
  /** --exclude, --include and --only. */
  filter: FilterRules;
  /** The hash of the files copied (files skipped keep their records'). */
  hash: HashAlgorithm;
}

const SOURCE_CHANGED = "source changed during the run: destinations read different bytes";

/**
 * How often the allocator's free memory is given back to the system during a run (libc's
 * trimHeap, for every thread's arena at once). 100,000 files to 3 destinations, alternate
 * runs: peaks of 211–217 MiB against 224–230 MiB verified (3 each), 192–205 MiB against
 * 205–214 MiB with `--no-verify` (7 each), in the same time.
 */
const TRIM_INTERVAL_MS = 1000;

const GOOD_COPIED = 1;
const GOOD_READ = 2;

/** What the coordinator knows of one destination. */
class DestinationTally {
  copied = 0;
  skipped = 0;
  failed = 0;
  verified = 0;
  bytes = 0;
  sharedBytes = 0;
  elapsedMs = 0;
  readBack: ReadBack | null = null;
  /** Why the destination as a whole failed. */
  error?: string;
  /** Errors that are not about one file (a folder that could not be created). */
  errors = 0;
  /** The destination ended early because the run was stopped. */
  stopped = false;
  /**
   * Files (and links) by index: GOOD_COPIED or GOOD_READ (copied by an earlier run, read
   * back by this one) once reported good, in case the source check fails them; 0 otherwise.
   */
  good: Uint8Array;
  /** Bytes each good copy took from other destinations' reads, for `revoke`. */
  shared: TakenColumn;
  /** Paths failed by the source check after they were reported good. */
  revoked: string[] = [];
  failures: FailedFile[] = [];

  constructor(readonly name: string, readonly root: string, files: number) {
    this.good = new Uint8Array(files);
    this.shared = new TakenColumn(files);
  }

  /** Counts `result`, of the file at `path` of `size` bytes. */
  add(result: FileResult, path: string, size: number): void {
    if (result.status === "skipped") {
      this.skipped++;
      return;
    }
    if (result.status === "failed") {
      this.failed++;
      this.failures.push({ destination: this.name, path, error: result.error ?? "" });
      return;
    }
    // A copy made by an earlier, stopped run is read back without a copy (attempts 0).
    if (result.attempts > 0) {
      this.copied++;
      this.bytes += size;
      this.sharedBytes += result.shared ?? 0;
      this.shared.set(result.index, size, result.shared ?? 0);
    }
    if (result.status === "verified") this.verified++;
    this.good[result.index] = result.attempts > 0 ? GOOD_COPIED : GOOD_READ;
  }

  /** Turns a file reported good into a failure; false if it had not been good. */
  revoke(index: number, path: string, size: number, error: string, verified: boolean): boolean {
    const good = this.good[index];
    if (good === 0) return false;
    this.good[index] = 0;
    if (good === GOOD_COPIED) {
      this.copied--;
      this.bytes -= size;
      this.sharedBytes -= this.shared.get(index, size);
    }
    if (verified) this.verified--;
    this.failed++;
    this.failures.push({ destination: this.name, path, error });
    this.revoked.push(path);
    return true;
  }

  summary(): DestinationSummary {
    const { copied, skipped, failed, verified, bytes, sharedBytes, elapsedMs, readBack, error } =
      this;
    const status = failed > 0 || this.errors > 0 || error !== undefined
      ? "failed"
      : this.stopped
      ? "stopped"
      : "ok";
    return {
      path: this.name,
      copied,
      skipped,
      failed,
      verified,
      bytes,
      sharedBytes,
      elapsedMs: Math.round(elapsedMs),
      status,
      readBack,
      ...(error === undefined ? {} : { error }),
    };
  }
}

/**
 * A destination's Web Worker, started before its job exists so that it loads its modules
 * while the source is analyzed. An error while it loads is kept until its job starts.
 */
class DestinationWorker {
  readonly worker = new Worker(new URL("../queue/destination_worker.ts", import.meta.url), {
    type: "module",
  });
  bootError: string | undefined;

  constructor() {
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.bootError ??= event.message;
    };
  }
}

/**
 * The SourceReader's Web Worker, started with the destinations' so that it loads its modules
 * while the source is analyzed. Should it fail, the destination reads for itself: it is told
 * as a warning, once.
 */
class SourceReaderWorker {
  readonly worker = new Worker(new URL("../copy/source_reader_worker.ts", import.meta.url), {
    type: "module",
  });

  constructor(warn: (message: string) => void) {
    this.worker.onerror = (event) => {
      event.preventDefault();
      warn(`the source's reader stopped (${event.message}); the destination reads for itself`);
    };
  }
}

/** The source as analyzed: its files readable by index, and shared for the workers. */
interface AnalyzedSource extends Omit<SourceTree, "files"> {
  files: OpenFileTable;
  shared: SharedFileTable;
  /** On a local file system (onLocalDisk). */
  local: boolean;
}

export class BackupCoordinator {
  #tallies: DestinationTally[] = [];
  /** The run's files and links, for the path and size of a file known by its index. */
  #source: AnalyzedSource | null = null;
  #progress = new ProgressAggregator([]);
  #logs: DestinationLogs | null = null;
  #workers: Worker[] = [];
  #stop: { signal: string; exitCode: number } | null = null;

  constructor(
    private readonly settings: BackupSettings,
    private readonly sink: EventSink,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Every event goes to the renderer and to the destinations' run logs. */
  #emit(event: RunEvent): void {
    this.sink(event);
    this.#logs?.emit(event);
  }

  /**
   * Asks every destination to stop soon (Ctrl-C): no file is started any more, files in hand
   * are abandoned, and what was completed is flushed and recorded. `run` then ends with
   * `exitCode`.
   */
  stop(signal: string, exitCode: number): void {
    if (this.#stop) return;
    this.#stop = { signal, exitCode };
    this.#emit({
      type: "warning",
      message: `stopping (${signal}): finishing nothing new, recording what is done`,
    });
    for (const worker of this.#workers) worker.postMessage({ type: "stop" } satisfies ToWorker);
  }

  /** Runs the backup to the end and returns its summary (also emitted as the last event). */
  async run(): Promise<BackupSummary> {
    const start = this.now();
    const { settings } = this;
    const emit = (event: RunEvent) => this.#emit(event);
    const layout = await checkLayout(settings.source, settings.destinations);
    // Each destination's worker loads its modules while the locks are taken and the source
    // is analyzed.
    const workers = layout.destinations.map(() => new DestinationWorker());
    const libc = libcAtHand();
    // One destination's thread would read, hash and write each small file in turn, with a
    // CPU to spare: a thread of its own reads ahead for it (SourceReader).
    const reader = workers.length === 1 && libc && navigator.hardwareConcurrency > 1
      ? new SourceReaderWorker((message) => emit({ type: "warning", message }))
      : null;
    const trimmer = libc && setInterval(() => libc.trimHeap(), TRIM_INTERVAL_MS);
    const locks: DestinationLock[] = [];
    try {
      for (const [i, root] of layout.destinations.entries()) {
        const name = settings.destinations[i];
        locks.push(
          await DestinationLock.acquire(
            root,
            name,
            (message) => emit({ type: "warning", destination: name, message }),
          ),
        );
      }
      return await this.#backup(workers, reader, layout, start);
    } finally {
      if (trimmer) clearInterval(trimmer);
      for (const { worker } of workers) worker.terminate();
      reader?.worker.terminate();
      await Promise.all(locks.map((lock) => lock.release()));
    }
  }

  async #backup(
    workers: DestinationWorker[],
    reader: SourceReaderWorker | null,
    layout: Layout,
    start: number,
  ): Promise<BackupSummary> {
    const { settings } = this;
    const emit = (event: RunEvent) => this.#emit(event);
    this.#logs = await DestinationLogs.open(
      settings.destinations,
      layout.destinations,
      settings.keepLogs,
      new Date(),
      (destination, message) => emit({ type: "warning", destination, message }),
    );

    const tree = await this.#analyze(layout.source);
    this.#source = tree;
    const count = tree.files.count + tree.links.length;
    const consistency = new SourceConsistency(count);
    const tallies = layout.destinations.map((root, i) =>
      new DestinationTally(settings.destinations[i], root, count)
    );
    this.#tallies = tallies;
    this.#progress = new ProgressAggregator(settings.destinations, this.now);
    // With several destinations, what one reads of the source is kept for the others.
    // With one, what the SourceReader reads of a local source is kept for it the same way.
    const reads = reader && tree.local ? readRequestsMemory() : null;
    const chunks = tallies.length > 1 || reads
      ? sharedChunksMemory(Math.max(2, tallies.length), tree.files.count)
      : null;
    if (reader && reads && chunks) {
      reader.worker.postMessage(
        {
          source: layout.source,
          destination: layout.destinations[0],
          files: tree.shared,
          chunks: { memory: chunks, destination: 1 },
          requests: reads,
          hash: settings.hash,
        } satisfies SourceReaderJob,
      );
    }
    await Promise.all(
      tallies.map((tally, i) =>
        this.#runWorker(
          workers[i],
          i,
          this.#job(i, tally.root, layout.source, tree, chunks, reads),
          consistency,
          start,
        )
      ),
    );
    await this.#amendRecords(tallies);

    const destinations = tallies.map((tally) => tally.summary());
    const failed = tree.unreadable.length > 0 ||
      destinations.some((destination) => destination.status === "failed");
    const summary: BackupSummary = {
      type: "summary",
      command: "backup",
      source: settings.source,
      files: tree.files.count,
      bytes: tree.bytes,
      destinations,
      failures: tallies.flatMap((tally) => tally.failures),
      elapsedMs: Math.round(this.now() - start),
      ...(this.#stop ? { stoppedBy: this.#stop.signal } : {}),
      exitCode: this.#stop?.exitCode ?? (failed ? ExitCode.failed : ExitCode.ok),
    };
    emit(summary);
    await this.#logs.close();
    return summary;
  }

  /**
   * Analyze: scans the source and tells what it found. The paths go into shared memory for
   * the workers, and the coordinator too reads them from there: the scan's strings are let go.
   */
  async #analyze(source: string): Promise<AnalyzedSource> {
    const { settings } = this;
    const emit = (event: RunEvent) => this.#emit(event);
    emit({ type: "phase", phase: "analyze", state: "start" });
    const local = await onLocalDisk(source);
    const tree = await scanSource(source, {
      links: settings.links,
      filter: await pathFilter(settings.filter),
      local,
    });
    for (const { path, reason } of tree.skipped) {
      emit({ type: "warning", path, message: `skipped ${path}: ${reason}` });
    }
    for (const { path, reason } of tree.unreadable) {
      emit({ type: "error", path, message: `cannot read ${path} in the source: ${reason}` });
    }
    emit({
      type: "phase",
      phase: "analyze",
      state: "end",
      files: tree.files.paths.length,
      bytes: tree.bytes,
      ...(tree.excluded > 0 ? { excluded: tree.excluded } : {}),
    });

    const { files, ...rest } = tree;
    const shared = shareFileTable(files);
    return { ...rest, files: openFileTable(shared), shared, local };
  }

  #job(
    index: number,
    destination: string,
    source: string,
    tree: AnalyzedSource,
    chunks: SharedChunksMemory | null,
    reads: ReadRequestsMemory | null,
  ): DestinationJob {
    const { workers, retries, retryPauseMs, verify, order, priorities, limits, hash } =
      this.settings;
    return {
      destination,
      source,
      sourceLocal: tree.local,
      files: tree.shared,
      chunks: chunks && { memory: chunks, destination: index },
      reads,
      destinations: this.settings.destinations.length,
      folders: tree.folders,
      links: tree.links,
      workers: workers[index] ?? "auto",
      bwlimit: limits[index] ?? null,
      order,
      priorities,
      retries,
      retryPauseMs,
      verify,
      hash,
    };
  }

  /** Starts one destination's worker and settles when it is done or has failed. */
  #runWorker(
    { worker, bootError }: DestinationWorker,
    index: number,
    job: DestinationJob,
    consistency: SourceConsistency,
    start: number,
  ): Promise<void> {
    const tally = this.#tallies[index];
    const destination = tally.name;
    return new Promise<void>((resolve) => {
      const finish = (error?: string) => {
        tally.elapsedMs = this.now() - start;
        if (error !== undefined) {
          tally.error = error;
          this.#emit({ type: "error", destination, message: `${destination}: ${error}` });
        }
        this.#progress.finish(index, tally.summary().status);
        const progress = this.#progress.progress(index);
        if (progress) this.#emit({ type: "progress", ...progress });
        worker.terminate();
        resolve();
      };
      worker.onerror = (event) => {
        event.preventDefault();
        finish(`internal error: ${event.message}`);
      };
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        switch (message.type) {
          case "phase": {
            const { type, phase, state, ...amount } = message;
            this.#emit({ type, phase, state, destination, ...amount });
            break;
          }
          case "files":
            forEachFileResult(
              message.results,
              (result) => this.#onFile(tally, result, consistency),
            );
            break;
          case "stats":
            this.#progress.update(index, message.stats);
            this.#emit({ type: "progress", ...this.#progress.progress(index)! });
            break;
          case "workers": {
            const { type, ...change } = message;
            this.#emit({ type, destination, ...change });
            break;
          }
          case "warning":
            this.#emit({
              type: "warning",
              destination,
              path: message.path,
              message: message.message,
            });
            break;
          case "error":
            tally.errors++;
            this.#emit({
              type: "error",
              destination,
              path: message.path,
              message: message.message,
            });
            break;
          case "done":
            tally.readBack = message.readBack;
            tally.stopped = message.stopped;
            finish();
            break;
          case "failed":
            finish(message.message);
            break;
        }
      };
      if (bootError !== undefined) return finish(`internal error: ${bootError}`);
      worker.postMessage({ type: "start", job } satisfies ToWorker);
      this.#workers.push(worker);
      if (this.#stop) worker.postMessage({ type: "stop" } satisfies ToWorker);
    });
  }

  #onFile(tally: DestinationTally, result: FileResult, consistency: SourceConsistency): void {
    const { path, size } = this.#fileAt(result.index);
    if (result.status !== "skipped" && result.content !== undefined) {
      if (consistency.record(result.index, result.content)) this.#revokeEverywhere(result.index);
      if (consistency.isInconsistent(result.index) && result.status !== "failed") {
        result = { ...result, status: "failed", error: SOURCE_CHANGED };
        // This destination's records, written when it finishes, will list the file as good.
        tally.revoked.push(path);
      }
    }
    tally.add(result, path, size);
    const { index: _index, status, content, ...rest } = result;
    this.#emit({
      type: "file",
      destination: tally.name,
      path,
      size,
      status,
      ...(content && digestField(content.hash, content.digest)),
      ...rest,
    });
  }

  /** Fails a file in every destination that already reported it good. */
  #revokeEverywhere(index: number): void {
    const { path, size } = this.#fileAt(index);
    for (const tally of this.#tallies) {
      if (!tally.revoke(index, path, size, SOURCE_CHANGED, this.settings.verify)) continue;
      this.#emit({
        type: "file",
        destination: tally.name,
        path,
        size,
        status: "failed",
        error: SOURCE_CHANGED,
      });
    }
  }

  /** The path and size of a file by its index in the results (a link's size is 0). */
  #fileAt(index: number): { path: string; size: number } {
    const { files, links } = this.#source!;
    const count = files.count;
    return index < count
      ? { path: files.path(index), size: files.sizes[index] }
      : { path: links[index - count].path, size: 0 };
  }

  /** Drops the files failed by the source check from the records of their destinations. */
  async #amendRecords(tallies: DestinationTally[]): Promise<void> {
    for (const tally of tallies) {
      if (tally.revoked.length === 0 || tally.error !== undefined) continue;
      try {
        const records = await readManifest(tally.root);
        for (const path of tally.revoked) records.delete(path);
        await writeRecords(tally.root, records.values());
      } catch (error) {
        tally.errors++;
        this.#emit({
          type: "error",
          destination: tally.name,
          message: `cannot update the records: ${(error as Error).message}`,
        });
      }
    }
  }
}

import type { TaskOrder, TaskPriority } from "../queue/file_task.ts";
import type { SharedFileTable } from "./file_table.ts";
import type { SharedChunksMemory } from "../copy/shared_chunks.ts";
import type { ReadRequestsMemory } from "../copy/source_reader.ts";
import type { ContentHash, HashAlgorithm } from "../verify/hashers.ts";

/**
 * The messages between the coordinator (main thread) and a destination worker: one
 * discriminated union each way. Adding a message means adding a case here; the compiler
 * then finds every place that must handle it.
 */

/** One regular file found by the scan. `path` is relative to the source, "/"-separated. */
export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
  mode: number | null;
  /** Fewer blocks than its size needs: it has holes, which the copy keeps. */
  sparse?: boolean;
}

/** A symlink of the source, copied as a link with --links: its target text, never followed. */
export interface SourceLink {
  path: string;
  target: string;
}

/** Files whose path matches `pattern` (a glob) get `priority`; the last matching rule wins. */
export interface PriorityRule {
  pattern: string;
  priority: TaskPriority;
}

/** What one destination must do, sent once when its worker starts. */
export interface DestinationJob {
  /** Absolute destination root, as resolved by the layout check. */
  destination: string;
  /** Absolute source root. */
  source: string;
  /** The source is on a local file system (onLocalDisk): its files open in plain calls. */
  sourceLocal: boolean;
  /** Every regular file of the source tree, shared by every worker (openFileTable). */
  files: SharedFileTable;
  /**
   * With several destinations, the source's chunks as the destinations read them, shared by
   * every worker (SharedChunks), and this destination's number among them (from 0); null for
   * one destination.
   */
  chunks: { memory: SharedChunksMemory; destination: number } | null;
  /**
   * With one destination and a SourceReader, the ring of the small files it asks the reader
   * to read ahead (readRequestsMemory); `chunks` then holds what the reader read. Else null.
   */
  reads: ReadRequestsMemory | null;
  /** How many destinations the run has, each with a worker of its own. */
  destinations: number;
  /** Every folder of the source tree, relative and "/"-separated, parents first. */
  folders: string[];
  /** Symlinks to copy as links (--links); empty otherwise. */
  links: SourceLink[];
  /** Concurrent copy slots, or "auto" to let the ThroughputMonitor choose within 1..8. */
  workers: number | "auto";
  /** Bytes per second this destination may write and read back; null for no limit. */
  bwlimit: number | null;
  /** Base order of the queue. */
  order: TaskOrder;
  priorities: PriorityRule[];
  /** Extra attempts after a failed copy or verify of a file. */
  retries: number;
  /** Pause before the first retry; it doubles on each further one. */
  retryPauseMs: number;
  /** Read every copied file back from disk and compare hashes. */
  verify: boolean;
  /** The hash of the files this run copies (the same for every destination of a run). */
  hash: HashAlgorithm;
}

/** The phases of a run, in order. Analyze happens before any worker starts. */
export type Phase = "analyze" | "manifest" | "copy" | "flush" | "verify";

/** Where a verification's bytes came from. */
export interface ReadBack {
  /** "disk" only when the page cache was dropped before each read. */
  source: "disk" | "cache";
  /** Why the cache could not be dropped, when it could not. */
  reason?: string;
}

/** The final state of one file in one destination for this run. */
export type FileStatus = "verified" | "copied" | "skipped" | "failed";

/**
 * What happened to one file in one destination. Its path and size are the coordinator's own
 * by the file's index (its table, its links).
 */
export interface FileResult {
  /**
   * The file's index in the job's table; for a link (--links), the table's length plus its
   * index among the links.
   */
  index: number;
  status: FileStatus;
  /**
   * The hash of the bytes read from the source, or for a skipped file its record's (which may
   * be of an earlier run's algorithm); absent when none was made.
   */
  content?: ContentHash;
  /** Copy and verify attempts made this run. */
  attempts: number;
  /** Bytes taken over from the temp file of an interrupted run (checked against the source). */
  resumed?: number;
  /** Bytes of the copy taken from another destination's read of the source, not read again. */
  shared?: number;
  /** For a symlink copied as a link: its target. */
  link?: string;
  /** Why the file failed. */
  error?: string;
}

/**
 * File results as columns, row by row in the order they were done (FileResultsBuilder): a
 * batch of 512 costs the structured clone a few typed arrays and strings, not 512 objects
 * made anew on the main thread.
 */
export interface FileResults {
  count: number;
  indices: Int32Array;
  /** Each row's status, by its index in FILE_STATUSES. */
  statuses: Uint8Array;
  attempts: Uint8Array;
  /** Each row's hash algorithm (1 + its index in HASH_ALGORITHMS), 0 for none. */
  hashes: Uint8Array;
  /** The hex digests of the rows that have one, one after another. */
  digests: string;
  /** `shared` and `resumed` by row, 0 for none. */
  shared: Float64Array;
  resumed: Float64Array;
  /** The rows with an error or a link target, which are few. */
  notes: { row: number; error?: string; link?: string }[];
}

/** A change of a destination's slot count by the ThroughputMonitor. */
export interface WorkersChange {
  workers: number;
  previous: number;
  /** The measured rates at `previous` slots behind the decision. */
  bytesPerSecond: number;
  filesPerSecond: number;
  reason: string;
}

/** One destination's progress, sent by its worker at most 4 times a second. */
export interface DestinationStats {
  /** The phase running now. */
  phase: Phase;
  /** Files finished: verified, copied (with --no-verify), skipped or failed. */
  filesDone: number;
  filesTotal: number;
  /** Bytes of work done: written, then read back when verifying. */
  bytesDone: number;
  /** Bytes to copy, twice when verifying. */
  bytesTotal: number;
  /** Over the last few seconds. */
  bytesPerSecond: number;
  /** Copy slots running. */
  workers: number;
  /** Retries so far. */
  retries: number;
  /** Files and folders that failed so far. */
  failures: number;
}

export type ToWorker =
  | { type: "start"; job: DestinationJob }
  /** Stop soon (Ctrl-C): finish nothing new, record what is done. */
  | { type: "stop" };

export type FromWorker =
  /** At the end of manifest, `files` and `bytes` say what is to be copied. */
  | { type: "phase"; phase: Phase; state: "start" | "end"; files?: number; bytes?: number }
  /** Posted by the run; its StatsReporter sends them on to the coordinator as `files`. */
  | { type: "file"; result: FileResult }
  | { type: "warning"; message: string; path?: string }
  | ({ type: "workers" } & WorkersChange)
  /** File results in the order they were done: the `file` messages, batched. */
  | { type: "files"; results: FileResults }
  | { type: "stats"; stats: DestinationStats }
  /** Something other than a file failed (a folder could not be created): the run fails. */
  | { type: "error"; message: string; path?: string }
  /** The destination finished; its records are written. */
  | { type: "done"; readBack: ReadBack | null; stopped: boolean }
  /** The destination as a whole could not go on (e.g. its root cannot be created). */
  | { type: "failed"; message: string };

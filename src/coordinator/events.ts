/**
 * The events a run reports, as plain data. The renderers in src/ui turn them into text
 * or NDJSON (`--json`); that NDJSON is a contract: add fields, never rename.
 */
import type { FileStatus, Phase, ReadBack, WorkersChange } from "./messages.ts";
import type { DestinationProgress } from "./progress.ts";

export interface PhaseEvent {
  type: "phase";
  phase: Phase;
  state: "start" | "end";
  /** Absent for analyze, which is one for the whole run. */
  destination?: string;
  /** At the end of analyze: files in the source; at the end of manifest: files to copy. */
  files?: number;
  /** Bytes of those files. */
  bytes?: number;
  /** At the end of analyze, with --exclude, --include or --only: entries they left out. */
  excluded?: number;
}

export interface FileEvent {
  type: "file";
  destination: string;
  path: string;
  size: number;
  status: FileStatus | VerifyStatus;
  /**
   * The file's digest, in the one field named for its algorithm: for a copy the run's
   * (`--hash`), for a skipped or `verify`-checked file its record's.
   */
  sha256?: string;
  xxh128?: string;
  blake3?: string;
  attempts?: number;
  /** Bytes taken over from the temp file of an interrupted run. */
  resumed?: number;
  /** Bytes of the copy taken from another destination's read of the source, not read again. */
  shared?: number;
  /** For a symlink copied as a link (--links): its target. */
  link?: string;
  error?: string;
}

/** One destination's progress, at most 4 times a second (`--json` prints one a second). */
export interface ProgressEvent extends DestinationProgress {
  type: "progress";
}

/** The ThroughputMonitor changed a destination's slot count (with --workers auto). */
export interface WorkersEvent extends WorkersChange {
  type: "workers";
  destination: string;
}

export interface WarningEvent {
  type: "warning";
  message: string;
  destination?: string;
  path?: string;
}

export interface ErrorEvent {
  type: "error";
  message: string;
  destination?: string;
  path?: string;
}

/** One destination's line in the backup summary. */
export interface DestinationSummary {
  path: string;
  copied: number;
  skipped: number;
  failed: number;
  verified: number;
  /** Bytes written this run. */
  bytes: number;
  /**
   * Of `bytes`, those taken from another destination's read of the source instead of read
   * from the source again; `bytes` − `sharedBytes` is what this destination read itself.
   */
  sharedBytes: number;
  /** From the start of the run to the end of this destination's verification. */
  elapsedMs: number;
  /** "stopped" when the run was stopped (Ctrl-C) before this destination finished. */
  status: "ok" | "failed" | "stopped";
  /** Where verification read from; null with --no-verify or when nothing was verified. */
  readBack: ReadBack | null;
  /** Why the destination as a whole failed, when it did. */
  error?: string;
}

export interface FailedFile {
  destination: string;
  path: string;
  error: string;
}

export interface BackupSummary {
  type: "summary";
  command: "backup";
  source: string;
  files: number;
  bytes: number;
  destinations: DestinationSummary[];
  failures: FailedFile[];
  elapsedMs: number;
  /** The signal that stopped the run early (SIGINT, SIGTERM), if one did. */
  stoppedBy?: string;
  exitCode: number;
}

/** The state of one file checked by `fanout verify`. */
export type VerifyStatus =
  | "verified"
  | "missing"
  | "mismatch"
  | "unreadable"
  | "unsafe"
  /** With --repair: copied again from the source, and read back. */
  | "repaired";

export interface VerifySummary {
  type: "summary";
  command: "verify";
  destination: string;
  files: number;
  verified: number;
  missing: number;
  mismatched: number;
  unreadable: number;
  /** Listed files whose path goes through a symlink: not followed, not read. */
  unsafe: number;
  /** Files copied again from the source with --repair, and verified. */
  repaired: number;
  bytes: number;
  readBack: ReadBack | null;
  elapsedMs: number;
  exitCode: number;
}

export type RunEvent =
  | PhaseEvent
  | FileEvent
  | ProgressEvent
  | WorkersEvent
  | WarningEvent
  | ErrorEvent
  | BackupSummary
  | VerifySummary;

/** Where events go: a renderer, a log, a test. Must not block the run. */
export type EventSink = (event: RunEvent) => void;

let lastLine = { event: null as RunEvent | null, line: "" };

/**
 * `event` as a line of NDJSON, with its line feed. An event goes to `--json` and to the run
 * logs, one after another: the line made for the first is kept for the others, since a
 * file's event is made once per file and destination and written two or three times.
 * Events are not changed once emitted.
 */
export function eventLine(event: RunEvent): string {
  if (lastLine.event !== event) lastLine = { event, line: JSON.stringify(event) + "\n" };
  return lastLine.line;
}

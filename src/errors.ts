/** Exit codes, the contract scripts rely on (see README). */
export const ExitCode = {
  /** Every file is in every destination and verified. */
  ok: 0,
  /** The run finished, but something failed: a file, a destination, a mismatch. */
  failed: 1,
  /** Usage or configuration error; nothing was written. */
  usage: 2,
  /** A destination is in use by another run. */
  locked: 3,
  /** Interrupted by SIGINT. */
  interrupted: 130,
  /** Stopped by SIGTERM. */
  terminated: 143,
} as const;

/** An error a user can cause: printed as one line, never with a stack trace. */
export class FanoutError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = "FanoutError";
  }
}

/** Bad command line or layout: the run is refused before anything is written. */
export class UsageError extends FanoutError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = "UsageError";
  }
}

/** The source file changed while it was read: failed for this run, never retried. */
export class SourceChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceChangedError";
  }
}

/** The run was asked to stop (Ctrl-C, SIGTERM): the file in hand is abandoned, not failed. */
export class StopRequested extends Error {
  constructor() {
    super("stopped");
    this.name = "StopRequested";
  }
}

/** A file's folder could not be made (something in the way): never retried. */
export class PathBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathBlockedError";
  }
}

/** A read-back did not match what was read from the source. */
export class VerifyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerifyMismatchError";
  }
}

/**
 * Why an error ends the whole destination rather than one file, or null: a full disk, a
 * quota, a read-only filesystem. Retrying other files there could only fail the same way.
 */
export function destinationFatal(error: unknown): string | null {
  const code = (error as { code?: string })?.code;
  if (code === "ENOSPC") return "the disk is full";
  if (code === "EDQUOT") return "the disk quota is used up";
  if (code === "EROFS") return "the destination is read-only";
  return null;
}

/** A short, human reason for any thrown value, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

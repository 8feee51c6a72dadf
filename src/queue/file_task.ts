/**
 * A FileTask is one file to copy to one destination, ordered in that destination's heap by
 * its score: priority first, then small files (quick wins), then time waiting (fairness).
 */
import type { SourceFile } from "../coordinator/messages.ts";

export type TaskPriority = "low" | "normal" | "high" | "critical";

const PRIORITY_LEVEL: Record<TaskPriority, number> = { low: 0, normal: 1, high: 2, critical: 3 };

export interface FileTask {
  /** Native path of the source file. */
  sourcePath: string;
  /** The file as the scan saw it; `file.path` is the relative, "/"-separated path. */
  file: SourceFile;
  priority: TaskPriority;
  /** When the task first entered the queue (ms); a retry keeps it, and so keeps its place. */
  addedAt: number;
  /** Attempts made so far. */
  attempts: number;
  /** SHA-256 of the bytes read from the source, once copied. */
  sha256?: string;
  /** ISO time of the read-back that matched, once verified. */
  verifiedAt?: string;
}

/**
 * The score at time `now`: 1000 per priority level, plus 100 / max(1, size in MB), plus one
 * point per 10 s waited.
 */
export function taskScore(task: FileTask, now: number): number {
  const sizeMb = task.file.size / 1_000_000;
  return PRIORITY_LEVEL[task.priority] * 1000 + 100 / Math.max(1, sizeMb) +
    (now - task.addedAt) / 10_000;
}

/**
 * Heap order: higher score first; on a tie (files under 1 MB score alike) the smaller file,
 * then the path. Every task ages at the same rate, so comparing at any common time gives the
 * same answer: the heap never needs re-sorting as time passes.
 */
export function scoresHigher(a: FileTask, b: FileTask): boolean {
  const now = Math.max(a.addedAt, b.addedAt);
  const difference = taskScore(a, now) - taskScore(b, now);
  if (difference !== 0) return difference > 0;
  if (a.file.size !== b.file.size) return a.file.size < b.file.size;
  return a.file.path < b.file.path;
}

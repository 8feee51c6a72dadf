/**
 * A FileTask is one file to copy to one destination, ordered in that destination's heap by
 * its score: priority first (1000 per level), then the base order (small files first by
 * default, for quick wins), then time waiting (one point per 10 s, so big files are never
 * starved).
 */

export type TaskPriority = "low" | "normal" | "high" | "critical";

export const PRIORITIES: readonly TaskPriority[] = ["low", "normal", "high", "critical"];

/** The base order among files of the same priority. */
export type TaskOrder = "small-first" | "large-first" | "path";

export const ORDERS: readonly TaskOrder[] = ["small-first", "large-first", "path"];

/**
 * Only what the order needs and the queue counts; a destination keeps the rest of a file's
 * state in columns by its index, so 100,000 tasks stay small.
 */
export interface FileTask {
  /** The file's relative, "/"-separated path. */
  path: string;
  size: number;
  priority: TaskPriority;
  /** When the task first entered the queue (ms); a retry keeps it, and so keeps its place. */
  addedAt: number;
  /** Attempts made so far. */
  attempts: number;
}

/** Points for size: small-first gives 100 / max(1, MB), large-first its mirror, path none. */
function sizeScore(size: number, order: TaskOrder): number {
  const small = 100 / Math.max(1, size / 1_000_000);
  if (order === "small-first") return small;
  if (order === "large-first") return 100 - small;
  return 0;
}

/**
 * The score at time `now`: 1000 per priority level, plus the size points of `order`, plus
 * one point per 10 s waited.
 */
export function taskScore(task: FileTask, now: number, order: TaskOrder = "small-first"): number {
  return PRIORITIES.indexOf(task.priority) * 1000 + sizeScore(task.size, order) +
    (now - task.addedAt) / 10_000;
}

/**
 * The heap order for `order`: higher score first; on a tie (files under 1 MB score alike)
 * the smaller file (the larger for large-first), then the path. Every task ages at the same
 * rate, so comparing at any common time gives the same answer: the heap never needs
 * re-sorting as time passes.
 */
export function taskOrder(order: TaskOrder): (a: FileTask, b: FileTask) => boolean {
  return (a, b) => {
    const now = Math.max(a.addedAt, b.addedAt);
    const difference = taskScore(a, now, order) - taskScore(b, now, order);
    if (difference !== 0) return difference > 0;
    if (order !== "path" && a.size !== b.size) {
      return order === "small-first" ? a.size < b.size : a.size > b.size;
    }
    return a.path < b.path;
  };
}

/** The default heap order: small files first. */
export const scoresHigher: (a: FileTask, b: FileTask) => boolean = taskOrder("small-first");

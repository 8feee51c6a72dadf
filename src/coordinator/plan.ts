/**
 * Manifest: what one destination needs. A file is skipped only when the destination's
 * records hold it with the source's size and mtime and the file on the destination still
 * has that size and mtime. A file so recorded but never verified (copied by a run that was
 * stopped before its read-back) is read back instead of copied again; everything else is
 * copied.
 */
import type { SourceFile } from "./messages.ts";
import type { ManifestEntry } from "../verify/manifest.ts";
import { forEachConcurrently } from "../concurrency.ts";
import { toNative } from "../relative_path.ts";

export interface DestinationPlan {
  /** Unchanged files, with the record that vouches for each. */
  skip: ManifestEntry[];
  /** Unchanged files whose copy was never read back, with their record: verify only. */
  recheck: { file: SourceFile; record: ManifestEntry }[];
  copy: SourceFile[];
}

/** How many lstat calls are in flight at once while planning. */
const STAT_CONCURRENCY = 64;

/**
 * Decides what `destination` needs from `files`, given its manifest `records`.
 *
 * @example
 * const plan = await planDestination(tree.files, "/ssd/card", await readRecords("/ssd/card"), true);
 */
export async function planDestination(
  files: SourceFile[],
  destination: string,
  records: Map<string, ManifestEntry>,
  verify: boolean,
): Promise<DestinationPlan> {
  const unchanged: (ManifestEntry | null)[] = new Array(files.length).fill(null);
  await forEachConcurrently(files, STAT_CONCURRENCY, async (file, i) => {
    const record = records.get(file.path);
    if (!record || record.size !== file.size || record.mtimeMs !== file.mtimeMs) return;
    if (await holds(destination, record)) unchanged[i] = record;
  });
  const plan: DestinationPlan = { skip: [], recheck: [], copy: [] };
  files.forEach((file, i) => {
    const record = unchanged[i];
    if (!record) plan.copy.push(file);
    else if (verify && record.verifiedAt === null) plan.recheck.push({ file, record });
    else plan.skip.push(record);
  });
  return plan;
}

/** Whether the destination file is still a regular file with the recorded size and mtime. */
export async function holds(destination: string, record: ManifestEntry): Promise<boolean> {
  try {
    const info = await Deno.lstat(toNative(destination, record.path));
    return info.isFile && info.size === record.size && info.mtime?.getTime() === record.mtimeMs;
  } catch {
    return false;
  }
}

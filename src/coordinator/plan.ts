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
  /** Bytes of the files already at the targets of `copy`, which the copies replace. */
  replacedBytes: number;
}

/** How many lstat calls are in flight at once while planning. */
const STAT_CONCURRENCY = 64;

/**
 * Decides what `destination` needs from `files`, given its `records`.
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
  const targets: (Deno.FileInfo | null)[] = new Array(files.length).fill(null);
  await forEachConcurrently(files, STAT_CONCURRENCY, async (file, i) => {
    targets[i] = await Deno.lstat(toNative(destination, file.path)).catch(() => null);
  });
  const plan: DestinationPlan = { skip: [], recheck: [], copy: [], replacedBytes: 0 };
  files.forEach((file, i) => {
    const record = records.get(file.path);
    const target = targets[i];
    if (
      !record || record.size !== file.size || record.mtimeMs !== file.mtimeMs ||
      !target || !matches(target, record)
    ) {
      plan.copy.push(file);
      if (target?.isFile) plan.replacedBytes += target.size;
    } else if (verify && record.verifiedAt === null) {
      plan.recheck.push({ file, record });
    } else {
      plan.skip.push(record);
    }
  });
  return plan;
}

/**
 * The free space a plan needs: each file rounded up to whole blocks, less what the copies
 * replace, plus room for the largest file, whose old copy stays until its new one is whole.
 */
export function bytesNeeded(plan: DestinationPlan, blockSize: number): number {
  const blocks = (size: number) => Math.ceil(size / blockSize) * blockSize;
  let total = 0;
  let largest = 0;
  for (const file of plan.copy) {
    total += blocks(file.size);
    largest = Math.max(largest, blocks(file.size));
  }
  return Math.max(0, total - plan.replacedBytes) + (plan.replacedBytes > 0 ? largest : 0);
}

function matches(info: Deno.FileInfo, record: ManifestEntry): boolean {
  return info.isFile && info.size === record.size && info.mtime?.getTime() === record.mtimeMs;
}

/**
 * Whether the destination still holds what a record says: a regular file with the recorded
 * size and mtime, or for a link, a symlink to the recorded target.
 */
export async function holds(destination: string, record: ManifestEntry): Promise<boolean> {
  const target = toNative(destination, record.path);
  try {
    if (record.link !== undefined) return await Deno.readLink(target) === record.link;
    return matches(await Deno.lstat(target), record);
  } catch {
    return false;
  }
}

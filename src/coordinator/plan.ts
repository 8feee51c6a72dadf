/**
 * Manifest: what one destination needs. A file is skipped only when the destination's
 * records hold it with the source's size and mtime and the file on the destination still
 * has that size and mtime. A file so recorded but never verified (copied by a run that was
 * stopped before its read-back) is read back instead of copied again; everything else is
 * copied.
 */
import type { OpenFileTable } from "./file_table.ts";
import type { ManifestEntry } from "../verify/manifest.ts";
import { path } from "../deps.ts";
import { forEachConcurrently, LIST_CONCURRENCY } from "../concurrency.ts";
import { isTempFile } from "../copy/durable.ts";
import { parentOf, toNative } from "../relative_path.ts";

export interface DestinationPlan {
  /** Unchanged files (by index in the table), with the record that vouches for each. */
  skip: { index: number; record: ManifestEntry }[];
  /**
   * Unchanged files whose copy was never read back (by index in the table), with their
   * record: verify only.
   */
  recheck: { index: number; record: ManifestEntry }[];
  /** Indices in the table of the files to copy. */
  copy: number[];
  /** Bytes of the files already at the targets of `copy`, which the copies replace. */
  replacedBytes: number;
  /**
   * Each destination folder that planning listed (by its native path), with the temp files
   * found there: left by an earlier run, to be removed (removeStaleTemps) without listing the
   * folder again.
   */
  temps: Map<string, string[]>;
}

/** How many lstat calls are in flight at once while planning. */
const STAT_CONCURRENCY = 64;

/**
 * Decides what `destination` needs from `files`, given its `records`. Each target folder is
 * listed once, and only the files found there are looked at one by one: a first run into an
 * empty destination costs one listing per folder, not one lstat per file. Only a decision
 * per file is kept, never its whole file info. On a `local` file system (onLocalDisk) the
 * listings and lstat calls are plain calls, one after another, as in the scan: each answers
 * in microseconds there, less than its hand-off to another thread and back costs (100,000
 * files in 1,000 folders, in the page cache, took 3.4–4.3 s to plan asynchronously with three
 * destinations at once); elsewhere many are in flight at once.
 *
 * @example
 * const plan = await planDestination(tree.files, "/ssd/card", await readRecords("/ssd/card"), true);
 */
export async function planDestination(
  files: OpenFileTable,
  destination: string,
  records: Map<string, ManifestEntry>,
  verify: boolean,
  local = false,
): Promise<DestinationPlan> {
  const temps = new Map<string, string[]>();
  const plan: DestinationPlan = { skip: [], recheck: [], copy: [], replacedBytes: 0, temps };
  const unchanged = new Uint8Array(files.count);
  const found = await presentTargets(files, destination, temps, local);
  await forEachConcurrently(found, STAT_CONCURRENCY, async (i) => {
    const rel = files.path(i);
    const target = await lstatOrNull(toNative(destination, rel), local);
    const record = records.get(rel);
    if (
      record && record.size === files.sizes[i] && record.mtimeMs === files.mtimes[i] &&
      target && matches(target, record)
    ) {
      unchanged[i] = 1;
    } else if (target?.isFile) {
      plan.replacedBytes += target.size;
    }
  });
  for (let i = 0; i < files.count; i++) {
    const record = records.size > 0 ? records.get(files.path(i)) : undefined;
    if (!unchanged[i] || !record) plan.copy.push(i);
    else if (verify && record.verifiedAt === null) plan.recheck.push({ index: i, record });
    else plan.skip.push({ index: i, record });
  }
  return plan;
}

/**
 * The indices of the files whose name is in their target folder. The scan lists a folder's
 * files together, so each run of files with one parent is one listing. Names compare without
 * case and in one Unicode form, so that on a case-insensitive volume a target is never
 * missed (a name found that is not the file only costs an lstat that finds nothing). Each
 * folder listed goes into `temps` with the temp files found in it, and each one missing with none.
 */
async function presentTargets(
  files: OpenFileTable,
  destination: string,
  temps: Map<string, string[]>,
  local: boolean,
): Promise<number[]> {
  const runs: { folder: string; from: number; to: number }[] = [];
  // Told apart by their paths' bytes: a path is decoded only where a run begins.
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < files.count; i++) {
    const bytes = files.pathBytes(i);
    const last = runs.at(-1);
    if (last && sameParent(previous, bytes)) last.to = i + 1;
    else runs.push({ folder: parentOf(files.path(i)), from: i, to: i + 1 });
    previous = bytes;
  }
  const present: number[][] = [];
  await forEachConcurrently(runs, LIST_CONCURRENCY, async ({ folder, from, to }, k) => {
    const names = new Set<string>();
    const native = toNative(destination, folder);
    const found: string[] = [];
    try {
      for await (const entry of local ? Deno.readDirSync(native) : Deno.readDir(native)) {
        names.add(comparable(entry.name));
        if (isTempFile(entry)) found.push(path.join(native, entry.name));
      }
    } catch (error) {
      // No such folder (or no folder there): none of its files is on the destination, and it
      // holds no temp file either. Any other error is left for the removal of temp files to
      // meet again and tell.
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        temps.set(native, []);
      }
      return;
    }
    temps.set(native, found);
    present[k] = [];
    for (let i = from; i < to; i++) {
      const rel = files.path(i);
      if (names.has(comparable(rel.slice(rel.lastIndexOf("/") + 1)))) present[k].push(i);
    }
  });
  return present.flat();
}

const SLASH = 0x2f;

/** Whether two relative paths, as UTF-8, have the same parent folder ("" for the root). */
function sameParent(one: Uint8Array, other: Uint8Array): boolean {
  const end = one.lastIndexOf(SLASH);
  if (end !== other.lastIndexOf(SLASH)) return false;
  for (let i = 0; i < end; i++) if (one[i] !== other[i]) return false;
  return true;
}

function comparable(name: string): string {
  return name.normalize("NFC").toLowerCase();
}

/** The lstat of `file`, or null if it cannot be looked at; in a plain call where `local`. */
async function lstatOrNull(file: string, local: boolean): Promise<Deno.FileInfo | null> {
  try {
    return local ? Deno.lstatSync(file) : await Deno.lstat(file);
  } catch {
    return null;
  }
}

/**
 * The free space a plan needs: each file rounded up to whole blocks, less what the copies
 * replace, plus room for the largest file, whose old copy stays until its new one is whole.
 */
export function bytesNeeded(
  plan: DestinationPlan,
  files: OpenFileTable,
  blockSize: number,
): number {
  const blocks = (size: number) => Math.ceil(size / blockSize) * blockSize;
  let total = 0;
  let largest = 0;
  for (const index of plan.copy) {
    total += blocks(files.sizes[index]);
    largest = Math.max(largest, blocks(files.sizes[index]));
  }
  return Math.max(0, total - plan.replacedBytes) + (plan.replacedBytes > 0 ? largest : 0);
}

function matches(info: Deno.FileInfo, record: ManifestEntry): boolean {
  return info.isFile && info.size === record.size && info.mtime?.getTime() === record.mtimeMs;
}

/**
 * Of `records`, those the destination still holds (see holds), in their order; as in
 * planning, in plain calls on a `local` file system, else STAT_CONCURRENCY at once: a network
 * share answers each after a round trip.
 */
export async function stillHeld(
  destination: string,
  records: readonly ManifestEntry[],
  local = false,
): Promise<ManifestEntry[]> {
  const held = new Uint8Array(records.length);
  await forEachConcurrently(records, STAT_CONCURRENCY, async (record, i) => {
    if (await holds(destination, record, local)) held[i] = 1;
  });
  return records.filter((_, i) => held[i] === 1);
}

/**
 * Whether the destination still holds what a record says: a regular file with the recorded
 * size and mtime, or for a link, a symlink to the recorded target.
 */
async function holds(
  destination: string,
  record: ManifestEntry,
  local: boolean,
): Promise<boolean> {
  const target = toNative(destination, record.path);
  if (record.link === undefined) {
    const info = await lstatOrNull(target, local);
    return info !== null && matches(info, record);
  }
  try {
    return (local ? Deno.readLinkSync(target) : await Deno.readLink(target)) === record.link;
  } catch {
    return false;
  }
}

/**
 * Durability helpers: temp names beside their target, folder fsync, and whole-file writes
 * that never leave a half-written file under the final name.
 */
import { path } from "../deps.ts";
import { forEachConcurrently, LIST_CONCURRENCY } from "../concurrency.ts";
import { writeFull } from "./whole_buffer.ts";

/**
 * The temp file that stands in for `target` while it is written: hidden, in the same
 * folder (so the rename is atomic), and named from the target's name so a later run can
 * find it.
 *
 * @example
 * tempPathFor("/dest/DCIM/IMG_0001.CR3"); // "/dest/DCIM/.fanout-3f2a….tmp"
 */
export function tempPathFor(target: string): string {
  const name = path.basename(target);
  return target.slice(0, target.length - name.length) + `.fanout-${nameHash(name)}.tmp`;
}

/**
 * 16 hex digits from a file name: two 32-bit multiplicative hashes of its UTF-16 units,
 * mixed as in cyrb53. Names in one folder only need to differ; a SHA-256 of each name (as
 * before) cost more than the rest of a small file's copy bookkeeping.
 */
function nameHash(name: string): string {
  let a = 0xdeadbeef;
  let b = 0x41c6ce57;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    a = Math.imul(a ^ unit, 2654435761);
    b = Math.imul(b ^ unit, 1597334677);
  }
  a = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  b = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  const hex = (word: number) => (word >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}

/** Whether a name is one of fanout's temp files. */
export function isTempName(name: string): boolean {
  return /^\.fanout-[0-9a-f]{16}\.tmp$/.test(name);
}

/** Whether a folder's entry is one of fanout's temp files: a regular file by such a name. */
export function isTempFile(entry: Deno.DirEntry): boolean {
  return entry.isFile && isTempName(entry.name);
}

/**
 * Removes the temp files an earlier run left in `folders` (killed, or stopped twice): they
 * never carried a final name. Those in `keep` stay, for a copy that resumes from them. A
 * folder in `listed` (by planning, DestinationPlan.temps) is not listed again: its temp files
 * are those. Folders are listed LIST_CONCURRENCY at a time. Returns how many went.
 */
export async function removeStaleTemps(
  folders: string[],
  keep: ReadonlySet<string> = new Set(),
  listed: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<number> {
  let removed = 0;
  await forEachConcurrently(folders, LIST_CONCURRENCY, async (folder) => {
    for (const file of listed.get(folder) ?? await tempsIn(folder)) {
      if (keep.has(file)) continue;
      try {
        await Deno.remove(file);
        removed++;
      } catch (error) {
        // Gone already: as good.
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  });
  return removed;
}

/** The temp files in `folder`; none in a folder that is not there. */
async function tempsIn(folder: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (isTempFile(entry)) found.push(path.join(folder, entry.name));
    }
  } catch (error) {
    // A folder the destination does not have yet (or has a file in its place) holds no temp
    // file; the copy phase reports the file in the way.
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) {
      throw error;
    }
  }
  return found;
}

/**
 * Makes a folder's entries (renames, new files) durable. Windows cannot open a folder for
 * fsync; there NTFS journals the rename itself, so this is a no-op.
 */
export async function fsyncFolder(folder: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const handle = await Deno.open(folder, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/** Writes `data` to `target` through a temp file, fsync and rename, then fsyncs the folder. */
export async function writeFileDurably(target: string, data: Uint8Array): Promise<void> {
  const temp = tempPathFor(target);
  try {
    const file = await Deno.open(temp, { write: true, create: true, truncate: true });
    try {
      await writeFull(file, data);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, target);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await fsyncFolder(path.dirname(target));
}

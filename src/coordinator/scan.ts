/**
 * Analyze: walks the source once. Symlinks are never followed (skipped with a reason, or
 * read as links with `links`), and special files (FIFOs, sockets, devices) are never opened:
 * they are skipped with a reason. Empty folders are
 * part of the tree. The source's own `.fanout` folder (a backup of a backup) is not copied.
 * A PathFilter (--exclude, --include, --only) prunes folders and leaves files out; what it
 * leaves out is counted, not listed as skipped.
 */
import { forEachConcurrently, nextTurn, TURN_MS } from "../concurrency.ts";
import type { PathFilter } from "./filter.ts";
import { toNative } from "../relative_path.ts";
import { libcAtHand } from "../libc.ts";
import { type FileTable, FileTableBuilder } from "./file_table.ts";
import type { SourceLink } from "./messages.ts";

/** The folder where fanout keeps a destination's records. */
export const RECORDS_FOLDER = ".fanout";

/** Something in the source that the scan did not take, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface SourceTree {
  /** Every regular file, in walk order (folders in name order, parents first). */
  files: FileTable;
  /** Symlinks, when they are to be copied as links. */
  links: SourceLink[];
  /** Every folder below the root, relative and "/"-separated, parents first. */
  folders: string[];
  bytes: number;
  skipped: SkippedEntry[];
  /** Folders or files that could not be read: the run will end with exit 1. */
  unreadable: SkippedEntry[];
  /** Files, links and folders left out by the filter. */
  excluded: number;
}

/** How many lstat calls are in flight at once, on a file system that is not local. */
const STAT_CONCURRENCY = 64;

/**
 * Walks `root` (an absolute folder) and returns its tree.
 *
 * @example
 * const tree = await scanSource("/media/card");
 * console.log(tree.files.paths.length, tree.bytes);
 */
export async function scanSource(
  root: string,
  options: {
    links?: boolean;
    filter?: PathFilter | null;
    /**
     * The source is on a local file system (onLocalDisk): its files are looked at one by one
     * in synchronous calls, which answer at once there, where 64 calls in flight would cost
     * each a hand-off to a thread and back. Elsewhere (a NAS), that many wait on the network
     * at once.
     */
    local?: boolean;
  } = {},
): Promise<SourceTree> {
  const filter = options.filter ?? null;
  const files = new FileTableBuilder();
  const tree: Omit<SourceTree, "files"> = {
    links: [],
    folders: [],
    bytes: 0,
    skipped: [],
    unreadable: [],
    excluded: 0,
  };
  const pending: string[] = [""];
  let turnAt = performance.now();
  while (pending.length > 0) {
    // Synchronous calls give the event loop no turn: a signal (Ctrl-C) and the progress
    // display get one between folders at least every TURN_MS.
    if (performance.now() - turnAt > TURN_MS) {
      await nextTurn();
      turnAt = performance.now();
    }
    const folder = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      // A local folder is listed in one synchronous call; elsewhere each listing waits.
      const native = toNative(root, folder);
      entries = options.local
        ? Array.from(Deno.readDirSync(native))
        : await Array.fromAsync(Deno.readDir(native));
    } catch (error) {
      tree.unreadable.push({ path: folder || ".", reason: (error as Error).message });
      continue;
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const regular: string[] = [];
    const subfolders: string[] = [];
    for (const entry of entries) {
      const rel = folder === "" ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory) {
        if (folder === "" && entry.name === RECORDS_FOLDER) continue;
        if (filter && !filter.walks(rel)) tree.excluded++;
        else subfolders.push(rel);
      } else if (filter && !filter.takes(rel)) {
        tree.excluded++;
      } else if (entry.isFile) {
        regular.push(rel);
      } else if (entry.isSymlink && options.links) {
        try {
          tree.links.push({ path: rel, target: await Deno.readLink(toNative(root, rel)) });
        } catch (error) {
          tree.unreadable.push({ path: rel, reason: (error as Error).message });
        }
      } else if (entry.isSymlink) {
        tree.skipped.push({
          path: rel,
          reason: "symlink, not followed (--links copies it as a link)",
        });
      } else {
        tree.skipped.push({ path: rel, reason: await describeSpecial(toNative(root, rel)) });
      }
    }
    const infos = await lstatAll(root, regular, options.local ?? false, tree.unreadable);
    regular.forEach((rel, k) => {
      const info = infos[k];
      if (!info) return;
      const sparse = info.blocks !== null && info.blocks * 512 < info.size;
      files.add({
        path: rel,
        size: info.size,
        mtimeMs: info.mtimeMs,
        mode: info.mode,
        ...(sparse ? { sparse } : {}),
      });
      tree.bytes += info.size;
    });
    tree.folders.push(...subfolders);
    // Reverse so that pop() visits folders in name order.
    pending.push(...subfolders.reverse());
  }
  const scanned = { ...tree, files: files.build() };
  if (filter?.includesOnly) scanned.folders = foldersOnTheWay(scanned);
  return scanned;
}

/** What the scan keeps of a file's lstat. */
interface ScannedStatus {
  size: number;
  mtimeMs: number;
  mode: number | null;
  /** Null where the platform tells none (Windows). */
  blocks: number | null;
}

function scannedStatus(info: Deno.FileInfo): ScannedStatus {
  return {
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    mode: info.mode,
    blocks: info.blocks,
  };
}

/**
 * The lstat of each of `files` (relative to `root`), in their order; null for one that could
 * not be looked at, which is added to `unreadable` with the reason. On a `local` file system
 * the calls are synchronous, one after another, and plain libc calls (statx) where libc is
 * at hand (Linux), which take half the time of Deno's, 1.3 against about 3 us a file; a call
 * that fails is made again through Deno, whose error tells why. Elsewhere STAT_CONCURRENCY
 * are in flight.
 */
async function lstatAll(
  root: string,
  files: string[],
  local: boolean,
  unreadable: SkippedEntry[],
): Promise<(ScannedStatus | null)[]> {
  const infos: (ScannedStatus | null)[] = new Array(files.length).fill(null);
  const unread = (rel: string, error: unknown) =>
    unreadable.push({ path: rel, reason: (error as Error).message });
  if (local) {
    const libc = libcAtHand();
    files.forEach((rel, k) => {
      const native = toNative(root, rel);
      try {
        infos[k] = libc?.lstat(native) ?? scannedStatus(Deno.lstatSync(native));
      } catch (error) {
        unread(rel, error);
      }
    });
    return infos;
  }
  await forEachConcurrently(files, STAT_CONCURRENCY, async (rel, k) => {
    try {
      infos[k] = scannedStatus(await Deno.lstat(toNative(root, rel)));
    } catch (error) {
      unread(rel, error);
    }
  });
  return infos;
}

/**
 * With includes, only the folders that lead to a file or link taken, in the scan's order
 * (parents first): `--only raw` makes no empty folders for the JPEGs it left out.
 */
function foldersOnTheWay(tree: SourceTree): string[] {
  const needed = new Set<string>();
  for (const taken of [...tree.files.paths, ...tree.links.map((link) => link.path)]) {
    for (let end = taken.lastIndexOf("/"); end > 0; end = taken.lastIndexOf("/", end - 1)) {
      const folder = taken.slice(0, end);
      if (needed.has(folder)) break;
      needed.add(folder);
    }
  }
  return tree.folders.filter((folder) => needed.has(folder));
}

async function describeSpecial(native: string): Promise<string> {
  try {
    const info = await Deno.lstat(native);
    if (info.isFifo) return "FIFO, never opened";
    if (info.isSocket) return "socket, never opened";
    if (info.isCharDevice || info.isBlockDevice) return "device file, never opened";
  } catch {
    // It vanished or cannot be inspected; it is skipped all the same.
  }
  return "not a regular file, never opened";
}

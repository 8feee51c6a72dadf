/**
 * Whether a folder is on a file system of this machine's own disks (or memory), not on a
 * network or FUSE one. On such a file system a stat is answered from memory or the local
 * disk in microseconds, so the scan asks in plain synchronous calls instead of many at once;
 * and one syncfs writes every dirty inode of the copies on it, so small copies can be
 * committed in batches (CommitBatch). Linux only for now, by statfs magic; elsewhere, or
 * without --allow-sys, the answer is false, which keeps the ways that suit any file system.
 */
import { statfs } from "./deps.ts";

/** ext2/3/4, XFS, Btrfs, F2FS, tmpfs, FAT, exFAT and NTFS (ntfs3), by their statfs magic. */
const LOCAL_FILE_SYSTEMS = new Set([
  0xef53,
  0x58465342,
  0x9123683e,
  0xf2f52010,
  0x01021994,
  0x4d44,
  0x2011bab0,
  0x7366746e,
]);

/**
 * Whether `folder` is on a local file system (see above); false if that cannot be told.
 *
 * @example
 * if (await onLocalDisk("/media/card")) console.log("stat calls answer at once");
 */
export async function onLocalDisk(folder: string): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  // Asked first: an op without its permission would prompt at a terminal.
  if (Deno.permissions.querySync({ name: "sys", kind: "statfs" }).state !== "granted") {
    return false;
  }
  const info = await statfs(folder).catch(() => null);
  return info !== null && LOCAL_FILE_SYSTEMS.has(info.type);
}

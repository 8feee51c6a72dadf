/**
 * True read-back: before a written file is read back, its pages are dropped from the page
 * cache, so the read comes from the disk and not from the memory that just wrote it.
 * Linux: `posix_fadvise(POSIX_FADV_DONTNEED)` through `Deno.dlopen` of libc, after the fsync
 * that made the pages clean. Elsewhere, or without --allow-ffi, the cache stays and the
 * read-back says so instead of claiming a disk read.
 */
import { statfs } from "../deps.ts";
import type { ReadBack } from "../coordinator/messages.ts";
import { openLibc } from "../libc.ts";

export interface CacheDropper {
  /** Where reads after `drop` come from, and why when not from disk. */
  readonly readBack: ReadBack;
  /** Drops `file` from the page cache; false if that failed (the read will hit the cache). */
  drop(file: string): boolean;
}

/** Filesystems whose only copy is memory: nothing to drop, nothing on disk to read. */
const MEMORY_FILESYSTEMS: Record<number, string> = { 0x01021994: "tmpfs", 0x858458f6: "ramfs" };

/**
 * The cache dropper for files under `destination`.
 *
 * @example
 * const dropper = await openCacheDropper("/ssd/card");
 * if (dropper.readBack.source === "cache") console.warn(dropper.readBack.reason);
 */
export async function openCacheDropper(destination: string): Promise<CacheDropper> {
  const inCache = (reason: string): CacheDropper => ({
    readBack: { source: "cache", reason },
    drop: () => false,
  });
  if (Deno.build.os !== "linux") {
    return inCache(`dropping the page cache is not implemented on ${Deno.build.os}`);
  }
  // Asked first: an op without its permission would prompt at a terminal.
  if (Deno.permissions.querySync({ name: "sys", kind: "statfs" }).state !== "granted") {
    return inCache(
      "--allow-sys was not granted, so it cannot be told whether the destination is on a disk",
    );
  }
  const memory = await memoryFilesystem(destination);
  if (memory) return inCache(`the destination is on ${memory}, which lives in memory`);
  const libc = openLibc();
  if (typeof libc === "string") {
    return inCache(`the page cache cannot be dropped: ${libc}`);
  }
  return { readBack: { source: "disk" }, drop: (file) => libc.dropFromCache(file) };
}

async function memoryFilesystem(folder: string): Promise<string | null> {
  return MEMORY_FILESYSTEMS[(await statfs(folder)).type] ?? null;
}

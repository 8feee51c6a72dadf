/**
 * True read-back: before a written file is read back, its pages are dropped from the page
 * cache, so the read comes from the disk and not from the memory that just wrote it.
 * Linux: `posix_fadvise(POSIX_FADV_DONTNEED)` through `Deno.dlopen` of libc, after the fsync
 * that made the pages clean. Elsewhere, or without --allow-ffi, the cache stays and the
 * read-back says so instead of claiming a disk read.
 */
import { statfs } from "../deps.ts";
import type { ReadBack } from "../coordinator/messages.ts";

export interface CacheDropper {
  /** Where reads after `drop` come from, and why when not from disk. */
  readonly readBack: ReadBack;
  /** Drops `file` from the page cache; false if that failed (the read will hit the cache). */
  drop(file: string): boolean;
}

const POSIX_FADV_DONTNEED = 4;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
} as const;

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
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return inCache("--allow-ffi was not granted, so the page cache cannot be dropped");
  }
  let libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
  try {
    libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch (error) {
    return inCache(`libc could not be loaded (${(error as Error).message})`);
  }
  const encoder = new TextEncoder();
  return {
    readBack: { source: "disk" },
    drop(file) {
      const fd = libc.symbols.open(encoder.encode(file + "\0"), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      const status = libc.symbols.posix_fadvise(fd, 0n, 0n, POSIX_FADV_DONTNEED);
      libc.symbols.close(fd);
      return status === 0;
    },
  };
}

async function memoryFilesystem(folder: string): Promise<string | null> {
  return MEMORY_FILESYSTEMS[(await statfs(folder)).type] ?? null;
}

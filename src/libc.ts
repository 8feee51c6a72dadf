/**
 * The few libc calls Deno has no API for, through `Deno.dlopen` (needs --allow-ffi): drop a
 * file from the page cache, and ask whether a process is alive. Linux (glibc) only for now;
 * elsewhere, or without the permission, `openLibc` says why not.
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

const POSIX_FADV_DONTNEED = 4;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const EPERM = 1;

export interface Libc {
  /** Drops `file`'s pages from the page cache; false if that failed. */
  dropFromCache(file: string): boolean;
  /** Whether process `pid` exists (possibly another user's). */
  processExists(pid: number): boolean;
}

let opened: Libc | string | null = null;

/** libc, or the reason it cannot be used here. Opened once per thread. */
export function openLibc(): Libc | string {
  opened ??= load();
  return opened;
}

function load(): Libc | string {
  if (Deno.build.os !== "linux") return `not implemented on ${Deno.build.os}`;
  // Asked first: dlopen without the permission would prompt at a terminal.
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "--allow-ffi was not granted";
  }
  let libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (error) {
    return `libc could not be loaded (${(error as Error).message})`;
  }
  const encoder = new TextEncoder();
  const errno = () => new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
  return {
    dropFromCache(file) {
      const fd = libc.symbols.open(encoder.encode(file + "\0"), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      const status = libc.symbols.posix_fadvise(fd, 0n, 0n, POSIX_FADV_DONTNEED);
      libc.symbols.close(fd);
      return status === 0;
    },
    processExists(pid) {
      // Signal 0 checks without sending; EPERM means it exists but is not ours.
      return libc.symbols.kill(pid, 0) === 0 || errno() === EPERM;
    },
  };
}

/**
 * The few libc calls Deno has no API for, through `Deno.dlopen` (needs --allow-ffi): drop a
 * file from the page cache, ask whether a process is alive, and flush a whole file system.
 * Linux (glibc) only for now; elsewhere, or without the permission, `openLibc` says why not.
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // On a thread of its own: it waits for the disk.
  syncfs: { parameters: ["i32"], result: "i32", nonblocking: true },
} as const;

const POSIX_FADV_DONTNEED = 4;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;
const EPERM = 1;

export interface Libc {
  /** Drops `file`'s pages from the page cache; false if that failed. */
  dropFromCache(file: string): boolean;
  /** Whether process `pid` exists (possibly another user's). */
  processExists(pid: number): boolean;
  /**
   * The file system that holds `folder`, to be flushed whole (syncfs) as often as needed,
   * until closed; null if the folder cannot be opened.
   */
  openFileSystem(folder: string): FileSystemHandle | null;
}

export interface FileSystemHandle extends Disposable {
  /**
   * Writes every dirty page and inode of the file system to its disk; false if that failed
   * (since Linux 5.8 this includes a write that failed in the background since the handle
   * was opened).
   */
  sync(): Promise<boolean>;
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
    openFileSystem(folder) {
      const fd = libc.symbols.open(
        encoder.encode(folder + "\0"),
        O_RDONLY | O_DIRECTORY | O_CLOEXEC,
      );
      if (fd < 0) return null;
      let open = true;
      return {
        sync: async () => open && await libc.symbols.syncfs(fd) === 0,
        [Symbol.dispose]() {
          if (open) libc.symbols.close(fd);
          open = false;
        },
      };
    },
  };
}

/**
 * The few libc calls Deno has no API for, through `Deno.dlopen` (needs --allow-ffi): drop a
 * file from the page cache, ask whether a process is alive, and flush a whole file system;
 * and a small file read or written whole in a few plain calls, without the checks Deno makes
 * of each path under narrow permissions (a readlink of every folder on the way, per call).
 * Linux (glibc) only for now; elsewhere, or without the permission, `openLibc` says why not.
 */
import { cStrings } from "./text_buffer.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  // On a thread of its own: it waits for the disk.
  syncfs: { parameters: ["i32"], result: "i32", nonblocking: true },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const;

/** The whole-file calls, loaded apart: a glibc older than 2.28 has no statx. */
const FILE_SYMBOLS = {
  // open(2) with its third argument, the mode of a file it creates.
  create: { name: "open", parameters: ["buffer", "i32", "u32"], result: "i32" },
  // A source may sit on a slow card: these two wait on a thread of their own.
  openAside: { name: "open", parameters: ["buffer", "i32"], result: "i32", nonblocking: true },
  readAside: {
    name: "read",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  // For a file read ahead (readAhead): its pages are in memory or on their way.
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  rename: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

const POSIX_FADV_WILLNEED = 3;
const POSIX_FADV_DONTNEED = 4;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_CLOEXEC = 0o2000000;
// The same on the x86 and the Arm (arm64) kernels, unlike the two below.
const O_NOATIME = 0o1000000;
// These two differ between the x86 and the Arm (arm64) kernels.
const O_DIRECTORY = Deno.build.arch === "aarch64" ? 0o40000 : 0o200000;
const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
const AT_EMPTY_PATH = 0x1000;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
/** Where struct statx keeps its fields (the same on every architecture). */
const STATX_MODE_AT = 28;
const STATX_SIZE_AT = 40;
const STATX_BLOCKS_AT = 48;
const STATX_MTIME_AT = 112;
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
  /**
   * Reads `file` into `into` until `size` bytes, its end or a full buffer, and tells its size
   * and mtime (in milliseconds, as Deno.stat tells them) after the read; null if any call
   * failed, for the caller to ask Deno, whose error says why. The file is opened on a
   * thread of its own (a network source answers slowly), unless it is `local` (on a local
   * file system, its entry in memory after the scan or the write): then in a plain call,
   * which costs less than the hand-off. With `drop`, its pages are dropped from the page
   * cache before the read (see dropFromCache), through the same open file, so that the read
   * comes from the disk. A file `ahead` (see readAhead) is read in a plain call too: it waits
   * at most for the rest of a read already under way. With `noatime` (for a copy this run
   * made, read back) the read leaves the file's access time as it was (O_NOATIME): otherwise
   * the file system would write the inode again for it. Only its owner may ask that; a file
   * this process does not own is read plainly.
   */
  readWhole(
    file: string,
    into: Uint8Array,
    size: number,
    options?: {
      local?: boolean;
      drop?: boolean;
      ahead?: boolean;
      noatime?: boolean;
      /** `file` open already (openAhead), read from its start: read in a plain call, kept open. */
      fd?: number;
    },
  ): Promise<WholeRead | null>;
  /**
   * Reads the file open as `fd` (openAhead) from its start, as readWhole reads a file `ahead`
   * with its `fd`, in plain calls; null if a call failed. `fd` stays open.
   */
  readOpen(fd: number, into: Uint8Array, size: number): Omit<WholeRead, "dropped"> | null;
  /**
   * Has the kernel start reading `file` into the page cache, and returns without waiting
   * (posix_fadvise WILLNEED), so that several files are on their way from the disk at once
   * while one thread reads them one after another in plain calls. With `drop`, its cached
   * pages are dropped first (as dropFromCache), so that what is read comes from the disk.
   * "dropped" or "ahead" (not dropped) if the read is under way; null if a call failed.
   */
  readAhead(file: string, drop: boolean): "dropped" | "ahead" | null;
  /**
   * What the scan needs of `file` itself (a symlink's own, not its target's), as Deno.lstat
   * tells it; null if the call failed, for the caller to ask Deno, whose error says why.
   */
  lstat(file: string): FileStatus | null;
  /**
   * readAhead, keeping the file open for its read (readWhole's `fd`), which spares opening
   * it again; with `noatime`, open as readWhole's `noatime` opens it. The caller `close`s it.
   * Null if a call failed (and nothing is left open).
   */
  openAhead(
    file: string,
    drop: boolean,
    noatime?: boolean,
  ): { fd: number; dropped: boolean } | null;
  /** Closes a file `openAhead` opened. */
  close(fd: number): void;
  /**
   * Writes `data` to `file` (created, or emptied), its mode then set to exactly `mode` if one
   * is given, whatever the umask, and its mtime to `mtimeMs` (its atime to now); false if any
   * call failed, for the caller to ask Deno, whose error says why.
   */
  writeWhole(file: string, data: Uint8Array, mode: number | undefined, mtimeMs: number): boolean;
  /**
   * Renames `from` to `to`, both NUL-terminated UTF-8 (C strings); false if that failed, for
   * the caller to ask Deno, whose error says why.
   */
  rename(from: Uint8Array, to: Uint8Array): boolean;
  /**
   * Gives back to the system the memory that the allocator holds free, in the arenas of every
   * thread (glibc's malloc_trim). A run's threads each get an arena, which keeps what it once
   * held: buffers V8 has let go stay resident until then.
   */
  trimHeap(): void;
}

export interface FileStatus {
  size: number;
  /** As Deno.lstat's mtime tells it, in whole milliseconds. */
  mtimeMs: number;
  /** st_mode: the permission bits and the file's type. */
  mode: number;
  /** 512-byte blocks held on the disk (fewer than the size needs: holes). */
  blocks: number;
}

export interface WholeRead {
  bytes: number;
  /** With `drop`: whether the pages were dropped before the read. */
  dropped: boolean;
  size: number;
  mtimeMs: number;
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

/** libc, or null where it cannot be used (for calls that have Deno's way to fall back on). */
export function libcAtHand(): Libc | null {
  const libc = openLibc();
  return typeof libc === "string" ? null : libc;
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
  let files: Deno.DynamicLibrary<typeof FILE_SYMBOLS> | null = null;
  try {
    files = Deno.dlopen("libc.so.6", FILE_SYMBOLS);
  } catch {
    // Then every file is read and written through Deno, as elsewhere.
  }
  const encoder = new TextEncoder();
  const errno = () => new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
  const cString = (text: string) => encoder.encode(text + "\0");
  const cStringNow = cStrings();
  const noPath = cString("");
  const status = new Uint8Array(256);
  const statusView = new DataView(status.buffer);
  const times = new BigInt64Array(4);
  /** An unsigned 64-bit field of `status`, exact up to 2^53 (any file's size). */
  const statusU64 = (at: number) =>
    statusView.getUint32(at, true) + statusView.getUint32(at + 4, true) * 2 ** 32;
  const statusMtime = () =>
    denoMilliseconds(
      statusView.getInt32(STATX_MTIME_AT + 4, true) * 2 ** 32 +
        statusView.getUint32(STATX_MTIME_AT, true),
      statusView.getUint32(STATX_MTIME_AT + 8, true),
    );
  const advise = (fd: number, advice: number) =>
    libc.symbols.posix_fadvise(fd, 0n, 0n, advice) === 0;
  const openAhead: Libc["openAhead"] = (file, drop, noatime = false) => {
    const name = cStringNow(file);
    let fd = libc.symbols.open(name, O_RDONLY | O_CLOEXEC | (noatime ? O_NOATIME : 0));
    // Refused (EPERM) unless this process owns the file: then it is read plainly.
    if (fd < 0 && noatime) fd = libc.symbols.open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return null;
    const dropped = drop && advise(fd, POSIX_FADV_DONTNEED);
    if ((!drop || dropped) && advise(fd, POSIX_FADV_WILLNEED)) return { fd, dropped };
    libc.symbols.close(fd);
    return null;
  };
  /** `bytes` read from `fd`, and its size and mtime now; null if statx failed. */
  const statusAfter = (fd: number, bytes: number): Omit<WholeRead, "dropped"> | null => {
    if (files!.symbols.statx(fd, noPath, AT_EMPTY_PATH, STATX_BASIC_STATS, status) !== 0) {
      return null;
    }
    return { bytes, size: statusU64(STATX_SIZE_AT), mtimeMs: statusMtime() };
  };
  const readOpen: Libc["readOpen"] = (fd, into, size) => {
    if (!files) return null;
    let bytes = 0;
    while (bytes < into.length) {
      const rest = into.subarray(bytes);
      const n = Number(files.symbols.read(fd, rest, BigInt(rest.length)));
      if (n < 0) return null;
      if (n === 0) break;
      bytes += n;
      // At the scanned size, the end: the size after the read tells if it grew.
      if (bytes === size) break;
    }
    return statusAfter(fd, bytes);
  };
  return {
    dropFromCache(file) {
      const fd = libc.symbols.open(cStringNow(file), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      const dropped = advise(fd, POSIX_FADV_DONTNEED);
      libc.symbols.close(fd);
      return dropped;
    },
    processExists(pid) {
      // Signal 0 checks without sending; EPERM means it exists but is not ours.
      return libc.symbols.kill(pid, 0) === 0 || errno() === EPERM;
    },
    openFileSystem(folder) {
      const fd = libc.symbols.open(
        cString(folder),
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
    async readWhole(file, into, size, options = {}) {
      if (!files) return null;
      const { local = false, drop = false, noatime = false } = options;
      const given = options.fd ?? -1;
      const ahead = options.ahead === true || given >= 0;
      const { symbols } = files;
      let fd = given;
      if (fd < 0) {
        const name = cString(file);
        const open = (flags: number): number | Promise<number> =>
          local ? libc.symbols.open(name, flags) : symbols.openAside(name, flags);
        fd = await open(O_RDONLY | O_CLOEXEC | (noatime ? O_NOATIME : 0));
        // Refused (EPERM) unless this process owns the file: then it is read plainly.
        if (fd < 0 && noatime) fd = await open(O_RDONLY | O_CLOEXEC);
        if (fd < 0) return null;
      }
      try {
        const dropped = drop && advise(fd, POSIX_FADV_DONTNEED);
        if (ahead) {
          const read = readOpen(fd, into, size);
          return read && { ...read, dropped };
        }
        let bytes = 0;
        while (bytes < into.length) {
          const rest = into.subarray(bytes);
          const n = Number(await symbols.readAside(fd, rest, BigInt(rest.length)));
          if (n < 0) return null;
          if (n === 0) break;
          bytes += n;
          // At the scanned size, the end: the size after the read tells if it grew.
          if (bytes === size) break;
        }
        const after = statusAfter(fd, bytes);
        return after && { ...after, dropped };
      } finally {
        if (given < 0) symbols.close(fd);
      }
    },
    readOpen,
    readAhead(file, drop) {
      const opened = openAhead(file, drop);
      if (!opened) return null;
      libc.symbols.close(opened.fd);
      return opened.dropped ? "dropped" : "ahead";
    },
    openAhead,
    lstat(file) {
      if (!files) return null;
      const name = cStringNow(file);
      if (
        files.symbols.statx(AT_FDCWD, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, status) !== 0
      ) {
        return null;
      }
      return {
        size: statusU64(STATX_SIZE_AT),
        mtimeMs: statusMtime(),
        mode: statusView.getUint16(STATX_MODE_AT, true),
        blocks: statusU64(STATX_BLOCKS_AT),
      };
    },
    close(fd) {
      libc.symbols.close(fd);
    },
    writeWhole(file, data, mode, mtimeMs) {
      if (!files) return false;
      const { symbols } = files;
      const flags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
      const fd = symbols.create(cStringNow(file), flags, mode ?? 0o666);
      if (fd < 0) return false;
      let done = mode === undefined || symbols.fchmod(fd, mode) === 0;
      for (let written = 0; done && written < data.length;) {
        const n = Number(symbols.write(fd, data.subarray(written), BigInt(data.length - written)));
        if (n <= 0) done = false;
        else written += n;
      }
      if (done) {
        setTimespec(times, 0, Date.now());
        setTimespec(times, 2, mtimeMs);
        done = symbols.futimens(fd, times) === 0;
      }
      return symbols.close(fd) === 0 && done;
    },
    rename(from, to) {
      return files !== null && files.symbols.rename(from, to) === 0;
    },
    trimHeap() {
      libc.symbols.malloc_trim(0n);
    },
  };
}

/**
 * A time as Deno.stat gives it in milliseconds, from seconds and nanoseconds since the epoch:
 * whole milliseconds, cut towards the epoch (before 1970 too).
 */
function denoMilliseconds(seconds: number, nanoseconds: number): number {
  // Exact in numbers after 1970 (to the year 285,000); before, the cut goes the other way.
  if (seconds >= 0) return seconds * 1000 + Math.floor(nanoseconds / 1_000_000);
  return Number((BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds)) / 1_000_000n);
}

/** Puts `ms` (milliseconds since the epoch) into `times` at `at` as a struct timespec. */
function setTimespec(times: BigInt64Array, at: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  times[at] = BigInt(seconds);
  times[at + 1] = BigInt(Math.round((ms - seconds * 1000) * 1_000_000));
}

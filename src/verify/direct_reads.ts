/**
 * DirectReads: small copies read back from the disk itself, several at once. Each file is
 * opened with O_DIRECT, so its bytes come from the device into fanout's buffer and never
 * from the page cache, and its reads go to the kernel in groups through Linux AIO
 * (io_submit): reads of neighbouring files in one group reach the disk as one request. A
 * read ahead through the page cache (posix_fadvise WILLNEED, then read) made one request of
 * each file, and two more calls. 10,000 copies of 0-4 KiB read back and hashed in a test
 * loop took 130-150 ms of CPU time this way instead of 170-230 ms, and 4,808 requests of the
 * disk instead of 9,998.
 *
 * Linux only (the calls go through libc's `syscall`, needs --allow-ffi). A file system that
 * cannot read a file this way (no O_DIRECT, or a buffer it cannot take) tells so, and its
 * files are then read the usual way.
 */
import { cStrings } from "../text_buffer.ts";

/** Slots for reads under way or waiting for their turn. */
export interface DirectReads extends Disposable {
  /**
   * Starts reading `file`, expected to hold `size` bytes, from the disk: opened with
   * O_DIRECT (and O_NOATIME, where this process owns it), its pages dropped from the page
   * cache first, so that a file system that serves such a read through the cache still reads
   * it from the disk. Returns the slot it reads into, or null (no slot free, a call failed,
   * or the file system cannot): then the caller reads the file another way.
   */
  start(file: string, size: number): number | null;
  /**
   * The bytes the read of `slot` got, waiting for it if it is still on its way: the whole
   * file if it holds at most the size given to `start`, else more than that size; null if
   * the read failed. They are the slot's until `release`.
   */
  finish(slot: number): Uint8Array | null;
  /** Closes the file of `slot` and frees the slot for another start. */
  release(slot: number): void;
}

/** Bytes per block of an O_DIRECT read: its buffer, length and offset are multiples. */
const BLOCK = 4096;
/** Reads started are handed to the kernel this many at a time: one plugged request list. */
const SUBMIT_GROUP = 8;

const X86 = Deno.build.arch === "x86_64";
/** The AIO system calls' numbers: x86-64's own, and the generic table of arm64. */
const IO_SETUP = X86 ? 206n : 0n;
const IO_DESTROY = X86 ? 207n : 1n;
const IO_GETEVENTS = X86 ? 208n : 4n;
const IO_SUBMIT = X86 ? 209n : 2n;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const O_NOATIME = 0o1000000;
const O_DIRECT = X86 ? 0o40000 : 0o200000;
const POSIX_FADV_DONTNEED = 4;
const PROT_READ_WRITE = 0x3;
const MAP_PRIVATE_ANONYMOUS = 0x22;
const EINTR = 4;
const EINVAL = 22;
/** struct iocb and struct io_event, as <linux/aio_abi.h> lays them out (little-endian). */
const IOCB_BYTES = 64;
const IOCB_FILDES_AT = 20;
const IOCB_BUF_AT = 24;
const IOCB_NBYTES_AT = 32;
const EVENT_WORDS = 4;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  // syscall(2) under one signature per call, pointers as buffers: the call takes each
  // buffer's address at the moment it is made.
  ioSetup: { name: "syscall", parameters: ["i64", "i64", "buffer"], result: "i64" },
  ioDestroy: { name: "syscall", parameters: ["i64", "u64"], result: "i64" },
  ioSubmit: { name: "syscall", parameters: ["i64", "u64", "i64", "buffer"], result: "i64" },
  ioGetEvents: {
    name: "syscall",
    parameters: ["i64", "u64", "i64", "i64", "buffer", "pointer"],
    result: "i64",
  },
} as const;

/**
 * DirectReads of `slots` reads at once, each of a file smaller than `slotBytes` rounded down
 * to 4096 bytes; null where they cannot be had (not Linux, no --allow-ffi, no AIO).
 *
 * @example
 * using reads = openDirectReads(32, 68 * 1024);
 * const slot = reads?.start("/ssd/card/IMG_0001.JPG", 4000);
 * if (reads && slot !== null) { const bytes = reads.finish(slot); reads.release(slot); }
 */
export function openDirectReads(slots: number, slotBytes: number): DirectReads | null {
  if (Deno.build.os !== "linux" || (!X86 && Deno.build.arch !== "aarch64")) return null;
  // Asked first: dlopen without the permission would prompt at a terminal.
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return null;
  }
  const bytes = slots * Math.floor(slotBytes / BLOCK) * BLOCK;
  // Memory of its own, outside any allocator's: a read still on its way when the thread
  // ends (a worker terminated) writes into it, never into memory given to something else.
  // Its pages, page-aligned as O_DIRECT needs, take memory only once a read fills them.
  const data = lib.symbols.mmap(
    null,
    BigInt(bytes),
    PROT_READ_WRITE,
    MAP_PRIVATE_ANONYMOUS,
    -1,
    0n,
  );
  if (data === null || BigInt(Deno.UnsafePointer.value(data)) === 2n ** 64n - 1n) {
    lib.close();
    return null;
  }
  const context = new BigUint64Array(BLOCK / 8);
  if (lib.symbols.ioSetup(IO_SETUP, BigInt(slots), context) !== 0n) {
    lib.symbols.munmap(data, BigInt(bytes));
    lib.close();
    return null;
  }
  return new AioReads(lib, context[0], data, slots, bytes / slots);
}

class AioReads implements DirectReads {
  #data: Uint8Array;
  // Its address is kept (#iocbAddress): big enough to be outside V8's heap, which moves
  // what it holds.
  #iocbs: DataView;
  #iocbAddress: bigint;
  /** The addresses of the iocbs handed to io_submit. */
  #submitted: BigUint64Array;
  #events: BigInt64Array;
  #fds: Int32Array;
  /** What each slot's read got: bytes, −errno, or WAITING. */
  #results: Float64Array;
  #free: number[] = [];
  /** Slots started and not yet handed to the kernel, in order. */
  #unsubmitted: number[] = [];
  #supported = true;
  #cString = cStrings();
  #open = true;
  #slotCount: bigint;

  constructor(
    private readonly lib: Deno.DynamicLibrary<typeof SYMBOLS>,
    private readonly context: bigint,
    private readonly dataPointer: Deno.PointerObject,
    slots: number,
    private readonly slotBytes: number,
  ) {
    this.#slotCount = BigInt(slots);
    this.#data = new Uint8Array(
      Deno.UnsafePointerView.getArrayBuffer(dataPointer, slots * slotBytes),
    );
    const dataAddress = BigInt(Deno.UnsafePointer.value(dataPointer));
    const iocbs = new ArrayBuffer(Math.max(BLOCK, slots * IOCB_BYTES));
    this.#iocbs = new DataView(iocbs);
    this.#iocbAddress = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iocbs)));
    this.#submitted = new BigUint64Array(Math.max(BLOCK / 8, slots));
    for (let slot = 0; slot < slots; slot++) {
      // aio_data is the slot, which its io_event gives back.
      this.#iocbs.setBigUint64(slot * IOCB_BYTES, BigInt(slot), true);
      this.#iocbs.setBigUint64(
        slot * IOCB_BYTES + IOCB_BUF_AT,
        dataAddress + BigInt(slot * slotBytes),
        true,
      );
      this.#free.push(slots - 1 - slot);
    }
    this.#events = new BigInt64Array(Math.max(BLOCK / 8, slots * EVENT_WORDS));
    this.#fds = new Int32Array(slots).fill(-1);
    this.#results = new Float64Array(slots);
  }

  start(file: string, size: number): number | null {
    const length = Math.ceil((size + 1) / BLOCK) * BLOCK;
    if (!this.#supported || length > this.slotBytes || this.#free.length === 0) return null;
    const { symbols } = this.lib;
    const name = this.#cString(file);
    let fd = symbols.open(name, O_RDONLY | O_CLOEXEC | O_DIRECT | O_NOATIME);
    // Refused (EPERM) unless this process owns the file: then opened without O_NOATIME.
    if (fd < 0 && this.#errno() !== EINVAL) {
      fd = symbols.open(name, O_RDONLY | O_CLOEXEC | O_DIRECT);
    }
    if (fd < 0) {
      // No O_DIRECT on this file system: none of its files can be read this way.
      if (this.#errno() === EINVAL) this.#supported = false;
      return null;
    }
    if (symbols.posix_fadvise(fd, 0n, 0n, POSIX_FADV_DONTNEED) !== 0) {
      symbols.close(fd);
      return null;
    }
    const slot = this.#free.pop()!;
    this.#fds[slot] = fd;
    this.#results[slot] = WAITING;
    this.#iocbs.setUint32(slot * IOCB_BYTES + IOCB_FILDES_AT, fd, true);
    this.#iocbs.setBigUint64(slot * IOCB_BYTES + IOCB_NBYTES_AT, BigInt(length), true);
    this.#unsubmitted.push(slot);
    if (this.#unsubmitted.length >= SUBMIT_GROUP) this.#submit();
    return slot;
  }

  finish(slot: number): Uint8Array | null {
    if (this.#unsubmitted.includes(slot)) this.#submit();
    while (this.#results[slot] === WAITING) {
      const got = Number(
        this.lib.symbols.ioGetEvents(
          IO_GETEVENTS,
          this.context,
          1n,
          this.#slotCount,
          this.#events,
          null,
        ),
      );
      if (got < 0 && this.#errno() !== EINTR) {
        // Not to be had: the read fails, and no slot is started again (one may still be
        // written into).
        this.#supported = false;
        this.#results[slot] = -this.#errno();
      }
      for (let i = 0; i < got; i++) {
        const done = Number(this.#events[i * EVENT_WORDS]);
        this.#results[done] = Number(this.#events[i * EVENT_WORDS + 2]);
      }
    }
    const bytes = this.#results[slot];
    if (bytes < 0) return null;
    return this.#data.subarray(slot * this.slotBytes, slot * this.slotBytes + bytes);
  }

  release(slot: number): void {
    // A read still on its way writes into the slot: it is waited for first.
    if (this.#results[slot] === WAITING) this.finish(slot);
    this.lib.symbols.close(this.#fds[slot]);
    this.#fds[slot] = -1;
    this.#free.push(slot);
  }

  [Symbol.dispose](): void {
    if (!this.#open) return;
    this.#open = false;
    // Waits for every read still on its way, before their memory goes.
    this.lib.symbols.ioDestroy(IO_DESTROY, this.context);
    for (const fd of this.#fds) if (fd >= 0) this.lib.symbols.close(fd);
    this.lib.symbols.munmap(this.dataPointer, BigInt(this.#data.length));
    this.lib.close();
  }

  /** Hands the reads started to the kernel; one it refuses fails with the reason. */
  #submit(): void {
    while (this.#unsubmitted.length > 0) {
      const count = this.#unsubmitted.length;
      this.#unsubmitted.forEach((slot, i) =>
        this.#submitted[i] = this.#iocbAddress + BigInt(slot * IOCB_BYTES)
      );
      const taken = Number(
        this.lib.symbols.ioSubmit(IO_SUBMIT, this.context, BigInt(count), this.#submitted),
      );
      if (taken <= 0) {
        // The first was refused: it fails, and the rest are tried again.
        this.#results[this.#unsubmitted.shift()!] = taken < 0 ? -this.#errno() : -EINVAL;
      } else {
        this.#unsubmitted.splice(0, taken);
      }
    }
  }

  #errno(): number {
    return new Deno.UnsafePointerView(this.lib.symbols.__errno_location()!).getInt32();
  }
}

/** A slot's result while its read is on its way. */
const WAITING = Number.POSITIVE_INFINITY;

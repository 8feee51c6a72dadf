/**
 * TextBuffer: text kept as UTF-8 in one growing buffer, for what waits a while in memory
 * (the copies of a commit batch, the lines of the journal). A string that waits that long
 * reaches V8's old generation, which only a full GC empties; bytes in one buffer leave no
 * garbage behind them.
 */
const encoder = new TextEncoder();

export class TextBuffer {
  #bytes: Uint8Array;
  #used = 0;

  constructor(capacity = 64 * 1024) {
    this.#bytes = new Uint8Array(capacity);
  }

  /** Bytes held. */
  get length(): number {
    return this.#used;
  }

  /** Appends `text` as UTF-8, and a NUL after it with `nul` (a C string). */
  append(text: string, nul = false): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room = this.#used + 3 * text.length + 1;
    if (room > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(room, 2 * this.#bytes.length));
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
    this.#used += encoder.encodeInto(text, this.#bytes.subarray(this.#used)).written;
    if (nul) this.#bytes[this.#used++] = 0;
  }

  /** What is held, in place: good until the next `append` or `clear`. */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#used);
  }

  /** Lets go of what is held, keeping the buffer for what comes next. */
  clear(): void {
    this.#used = 0;
  }

  /**
   * A copy of what is held, which is then let go.
   *
   * @example
   * const buffer = new TextBuffer();
   * buffer.append("a.jpg", true);
   * buffer.take(); // Uint8Array [97, 46, 106, 112, 103, 0]
   */
  take(): Uint8Array {
    const taken = this.#bytes.slice(0, this.#used);
    this.#used = 0;
    return taken;
  }
}

/**
 * TextBuffer: text kept as UTF-8 in one growing buffer, for what waits a while in memory
 * (the copies of a commit batch, the lines of the journal). A string that waits that long
 * reaches V8's old generation, which only a full GC empties; bytes in one buffer leave no
 * garbage behind them.
 */
const encoder = new TextEncoder();
/** The character codes of "0123456789abcdef". */
export const HEX_DIGITS: Uint8Array = encoder.encode("0123456789abcdef");

/** Texts up to this long are written a character at a time while they are ASCII. */
const SHORT_TEXT = 256;

/**
 * Writes `text` as UTF-8 into `into` at `at`, which has room for it (3 bytes per UTF-16
 * unit); returns where it ends. A short ASCII text (a path, a record's line) is written a
 * byte a character: the encoder's call costs as much, and makes an object each time.
 */
export function encodeAt(text: string, into: Uint8Array, at: number): number {
  if (text.length <= SHORT_TEXT) {
    let end = at;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) return at + encoder.encodeInto(text, into.subarray(at)).written;
      into[end++] = code;
    }
    return end;
  }
  return at + encoder.encodeInto(text, into.subarray(at)).written;
}

/**
 * A C string (NUL-terminated UTF-8) for a call made at once, in one buffer that the next
 * one overwrites: never for a call that waits on a thread of its own, nor across an await.
 * Keeping the buffer from call to call spares TextEncoder's new buffer and object each time.
 *
 * @example
 * const names = cStrings();
 * libc.symbols.open(names("/ssd/a.jpg"), 0);
 */
export function cStrings(): (text: string) => Uint8Array {
  let scratch = new Uint8Array(1024);
  return (text) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (scratch.length < 3 * text.length + 1) scratch = new Uint8Array(3 * text.length + 1);
    scratch[encodeAt(text, scratch, 0)] = 0;
    return scratch;
  };
}

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
    this.#room(3 * text.length + 1);
    this.#used = encodeAt(text, this.#bytes, this.#used);
    if (nul) this.#bytes[this.#used++] = 0;
  }

  /** Appends `bytes` as they are: UTF-8 made already, such as a file table's paths. */
  appendBytes(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#bytes.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Appends `value` as String writes it (JSON too, for a finite number): a whole number of
   * up to 2^53 digit by digit, with no string made.
   */
  appendNumber(value: number): void {
    if (!(Number.isSafeInteger(value) && value >= 0)) return this.append(String(value));
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.#room(digits);
    const bytes = this.#bytes;
    let rest = value;
    for (let at = this.#used + digits - 1; at >= this.#used; at--) {
      bytes[at] = 0x30 + rest % 10;
      rest = Math.floor(rest / 10);
    }
    this.#used += digits;
  }

  /**
   * Appends `bytes` in lowercase hex, two digits a byte.
   *
   * @example
   * buffer.appendHex(new Uint8Array([0xe3, 0xb0])); // appends "e3b0"
   */
  appendHex(bytes: Uint8Array): void {
    this.#room(2 * bytes.length);
    const into = this.#bytes;
    let at = this.#used;
    for (let i = 0; i < bytes.length; i++) {
      into[at++] = HEX_DIGITS[bytes[i] >> 4];
      into[at++] = HEX_DIGITS[bytes[i] & 15];
    }
    this.#used = at;
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

  /** Grows the buffer, if need be, to hold `count` bytes more. */
  #room(count: number): void {
    const room = this.#used + count;
    if (room <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(room, 2 * this.#bytes.length));
    grown.set(this.#bytes.subarray(0, this.#used));
    this.#bytes = grown;
  }
}

/** The hex text of a digest while it is made: one buffer for every call. */
const hexText = new TextBuffer(128);
const hexDecoder = new TextDecoder();

/**
 * `bytes` in lowercase hex, as a string (a digest's text).
 *
 * @example
 * hexString(new Uint8Array([0xe3, 0xb0])); // "e3b0"
 */
export function hexString(bytes: Uint8Array): string {
  hexText.clear();
  hexText.appendHex(bytes);
  return hexDecoder.decode(hexText.view());
}

/**
 * DigestColumn: one digest per file index, kept as bytes (32 a file, not a 64-character
 * string and its object), with the algorithm that made it.
 */
import { type ContentHash, DIGEST_LENGTH, HASH_ALGORITHMS, type HashAlgorithm } from "./hashers.ts";
import { HEX_DIGITS, hexString } from "../text_buffer.ts";

/** The most bytes any algorithm's digest takes. */
const SLOT = Math.max(...Object.values(DIGEST_LENGTH)) / 2;

/** The value of each lowercase hex digit (as digests are kept) by its character code, else −1. */
const NIBBLE = new Int8Array(128).fill(-1);
HEX_DIGITS.forEach((code, value) => NIBBLE[code] = value);

/** The value of the hex digit with character code `code`, or −1. */
const nibble = (code: number) => code < 128 ? NIBBLE[code] : -1;

export class DigestColumn {
  /** 0: none; otherwise 1 + the algorithm's index in HASH_ALGORITHMS. */
  #algorithms: Uint8Array;
  #bytes: Uint8Array;

  constructor(readonly length: number) {
    this.#algorithms = new Uint8Array(length);
    this.#bytes = new Uint8Array(length * SLOT);
  }

  /**
   * Keeps `content` for `index`.
   *
   * @example
   * column.set(7, { hash: "sha256", digest: "e3b0c442…" });
   */
  set(index: number, { hash, digest }: ContentHash): void {
    const at = index * SLOT;
    for (let i = 0; i < digest.length / 2; i++) {
      const byte = (nibble(digest.charCodeAt(2 * i)) << 4) | nibble(digest.charCodeAt(2 * i + 1));
      if (byte < 0) throw new RangeError(`not a lowercase hex digest: ${digest}`);
      this.#bytes[at + i] = byte;
    }
    this.#algorithms[index] = HASH_ALGORITHMS.indexOf(hash) + 1;
  }

  has(index: number): boolean {
    return this.#algorithms[index] !== 0;
  }

  /** The algorithm of the digest kept for `index`, or undefined. */
  algorithm(index: number): HashAlgorithm | undefined {
    const code = this.#algorithms[index];
    return code === 0 ? undefined : HASH_ALGORITHMS[code - 1];
  }

  clear(index: number): void {
    this.#algorithms[index] = 0;
  }

  /** The digest kept for `index`, or undefined. */
  get(index: number): ContentHash | undefined {
    const bytes = this.bytes(index);
    if (bytes === undefined) return undefined;
    return { hash: this.algorithm(index)!, digest: hexString(bytes) };
  }

  /**
   * The bytes of the digest kept for `index`, in place (good until the next `set` of it), or
   * undefined: for a line written as bytes (TextBuffer.appendHex), with no string made.
   */
  bytes(index: number): Uint8Array | undefined {
    const code = this.#algorithms[index];
    if (code === 0) return undefined;
    const at = index * SLOT;
    return this.#bytes.subarray(at, at + DIGEST_LENGTH[HASH_ALGORITHMS[code - 1]] / 2);
  }

  /** Whether `index` holds `content` (same algorithm, same digest). */
  holds(index: number, { hash, digest }: ContentHash): boolean {
    const code = this.#algorithms[index];
    if (code === 0 || HASH_ALGORITHMS[code - 1] !== hash) return false;
    const at = index * SLOT;
    if (digest.length !== DIGEST_LENGTH[hash]) return false;
    for (let i = 0; i < digest.length / 2; i++) {
      const byte = this.#bytes[at + i];
      if (
        digest.charCodeAt(2 * i) !== HEX_DIGITS[byte >> 4] ||
        digest.charCodeAt(2 * i + 1) !== HEX_DIGITS[byte & 15]
      ) return false;
    }
    return true;
  }
}

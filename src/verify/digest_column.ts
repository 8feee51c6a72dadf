/**
 * DigestColumn: one digest per file index, kept as bytes (32 a file, not a 64-character
 * string and its object), with the algorithm that made it.
 */
import { type ContentHash, DIGEST_LENGTH, HASH_ALGORITHMS, type HashAlgorithm } from "./hashers.ts";

/** The most bytes any algorithm's digest takes. */
const SLOT = Math.max(...Object.values(DIGEST_LENGTH)) / 2;

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

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
    const bytes = digest.length / 2;
    const at = index * SLOT;
    for (let i = 0; i < bytes; i++) {
      this.#bytes[at + i] = parseInt(digest.slice(2 * i, 2 * i + 2), 16);
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
    const code = this.#algorithms[index];
    if (code === 0) return undefined;
    const hash = HASH_ALGORITHMS[code - 1];
    const at = index * SLOT;
    let digest = "";
    for (let i = 0; i < DIGEST_LENGTH[hash] / 2; i++) digest += HEX[this.#bytes[at + i]];
    return { hash, digest };
  }

  /** Whether `index` holds `content` (same algorithm, same digest). */
  holds(index: number, { hash, digest }: ContentHash): boolean {
    const code = this.#algorithms[index];
    if (code === 0 || HASH_ALGORITHMS[code - 1] !== hash) return false;
    const at = index * SLOT;
    for (let i = 0; i < digest.length / 2; i++) {
      if (HEX[this.#bytes[at + i]] !== digest.slice(2 * i, 2 * i + 2)) return false;
    }
    return true;
  }
}

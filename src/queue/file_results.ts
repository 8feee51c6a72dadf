/**
 * FileResultsBuilder: a destination's file results gathered as columns (FileResults) for the
 * coordinator, and `forEachFileResult` reading them back there. A result posted as an object
 * costs the structured clone every field of it twice, in the worker and again on the main
 * thread, for each of the 100,000 files of a run times its destinations; as columns a batch
 * is a few typed arrays and two strings.
 */
import type { FileResult, FileResults, FileStatus } from "../coordinator/messages.ts";
import {
  DIGEST_LENGTH,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  LONGEST_DIGEST,
} from "../verify/hashers.ts";
import { TextBuffer } from "../text_buffer.ts";

/** The statuses by their code in FileResults. */
export const FILE_STATUSES: readonly FileStatus[] = ["verified", "copied", "skipped", "failed"];

/**
 * A file copied or verified, as a destination's run keeps it in columns: the result's fields
 * with its digest as bytes (DigestColumn.bytes), for a row added with no object of its own.
 */
export interface FileDone {
  index: number;
  status: "copied" | "verified";
  attempts: number;
  hash: HashAlgorithm;
  digestBytes: Uint8Array;
  /** 0 for none, as for `resumed`. */
  shared: number;
  resumed: number;
}

const hexText = new TextDecoder();

export class FileResultsBuilder {
  #count = 0;
  readonly #indices: Int32Array;
  readonly #statuses: Uint8Array;
  readonly #attempts: Uint8Array;
  readonly #hashes: Uint8Array;
  readonly #shared: Float64Array;
  readonly #resumed: Float64Array;
  /** The rows' hex digests, one after another. */
  readonly #digests: TextBuffer;
  #notes: FileResults["notes"] = [];

  /** Room for `capacity` results between two `take`s. */
  constructor(readonly capacity: number) {
    this.#indices = new Int32Array(capacity);
    this.#statuses = new Uint8Array(capacity);
    this.#attempts = new Uint8Array(capacity);
    this.#hashes = new Uint8Array(capacity);
    this.#shared = new Float64Array(capacity);
    this.#resumed = new Float64Array(capacity);
    this.#digests = new TextBuffer(capacity * LONGEST_DIGEST);
  }

  get count(): number {
    return this.#count;
  }

  get full(): boolean {
    return this.#count === this.capacity;
  }

  /** Adds a result; there must be room (not `full`). */
  add(result: FileResult): void {
    const { content, error, link } = result;
    const row = this.#row(result, content?.hash, result.shared ?? 0, result.resumed ?? 0);
    if (content) this.#digests.append(content.digest);
    if (error !== undefined || link !== undefined) {
      this.#notes.push({
        row,
        ...(error === undefined ? {} : { error }),
        ...(link === undefined ? {} : { link }),
      });
    }
  }

  /** Adds a file copied or verified, as add would add its result; there must be room. */
  addDone(done: FileDone): void {
    this.#row(done, done.hash, done.shared, done.resumed);
    this.#digests.appendHex(done.digestBytes);
  }

  /** Fills the next row's columns but the digest's and the notes', and returns the row. */
  #row(
    { index, status, attempts }: Pick<FileResult, "index" | "status" | "attempts">,
    hash: HashAlgorithm | undefined,
    shared: number,
    resumed: number,
  ): number {
    if (this.full) throw new RangeError(`no room for more than ${this.capacity} file results`);
    const row = this.#count++;
    this.#indices[row] = index;
    this.#statuses[row] = FILE_STATUSES.indexOf(status);
    this.#attempts[row] = Math.min(255, attempts);
    this.#hashes[row] = hash ? HASH_ALGORITHMS.indexOf(hash) + 1 : 0;
    this.#shared[row] = shared;
    this.#resumed[row] = resumed;
    return row;
  }

  /** The results added since the last `take`, which starts afresh. */
  take(): FileResults {
    const count = this.#count;
    const results: FileResults = {
      count,
      indices: this.#indices.slice(0, count),
      statuses: this.#statuses.slice(0, count),
      attempts: this.#attempts.slice(0, count),
      hashes: this.#hashes.slice(0, count),
      digests: hexText.decode(this.#digests.view()),
      shared: this.#shared.slice(0, count),
      resumed: this.#resumed.slice(0, count),
      notes: this.#notes,
    };
    this.#count = 0;
    this.#digests.clear();
    this.#notes = [];
    return results;
  }
}

/**
 * Calls `each` with every result of `results`, in order, as the object that was added.
 *
 * @example
 * forEachFileResult(message.results, (result) => tally.add(result));
 */
export function forEachFileResult(
  results: FileResults,
  each: (result: FileResult) => void,
): void {
  const { indices, statuses, attempts, hashes, digests, shared, resumed, notes } = results;
  let digestAt = 0;
  let note = 0;
  for (let row = 0; row < results.count; row++) {
    const result: FileResult = {
      index: indices[row],
      status: FILE_STATUSES[statuses[row]],
      attempts: attempts[row],
    };
    if (hashes[row] !== 0) {
      const hash = HASH_ALGORITHMS[hashes[row] - 1];
      const end = digestAt + DIGEST_LENGTH[hash];
      result.content = { hash, digest: digests.slice(digestAt, end) };
      digestAt = end;
    }
    if (resumed[row] !== 0) result.resumed = resumed[row];
    if (shared[row] !== 0) result.shared = shared[row];
    if (notes[note]?.row === row) {
      const { error, link } = notes[note++];
      if (link !== undefined) result.link = link;
      if (error !== undefined) result.error = error;
    }
    each(result);
  }
}

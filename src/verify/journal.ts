/**
 * The journal of a run in progress: each file copied (and later each file verified) is
 * appended to `<destination>/.fanout/journal.ndjson` as it happens, so a run that is killed
 * or loses power leaves behind what it finished. The next run reads it with the manifest
 * (readRecords) and still checks each file on disk before trusting an entry; a clean end
 * merges it into the manifest and removes it.
 */
import { path } from "../deps.ts";
import { RECORDS_FOLDER } from "../coordinator/scan.ts";
import { appendEntryLine, type EntryParts, journalPath } from "./manifest.ts";
import { TextBuffer } from "../text_buffer.ts";
import { writeFull } from "../copy/whole_buffer.ts";

/** Lines kept in memory before they are written. */
const BATCH = 256;
/** Longest a line waits before it is written. */
const DELAY_MS = 250;

export class JournalWriter {
  #file: Deno.FsFile | null = null;
  /**
   * The lines waiting, as UTF-8: a line waits long enough for a string of it to reach the
   * old generation, which only a full GC empties.
   */
  #pending = new TextBuffer();
  #lines = 0;
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;

  #failed = false;

  constructor(
    private readonly destination: string,
    /** Told once if the journal cannot be written; the run goes on without it. */
    private readonly onError: (message: string) => void,
  ) {}

  /** Adds the record of a file; it reaches the file within a quarter second. */
  add(entry: EntryParts): void {
    appendEntryLine(this.#pending, entry);
    if (++this.#lines >= BATCH) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), DELAY_MS);
  }

  /** Writes what is pending; resolves once it is written. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return this.#chain;
    const bytes = this.#pending.take();
    this.#lines = 0;
    this.#chain = this.#chain.then(async () => {
      if (this.#failed) return;
      try {
        if (!this.#file) {
          await Deno.mkdir(path.join(this.destination, RECORDS_FOLDER), { recursive: true });
          this.#file = await Deno.open(journalPath(this.destination), {
            append: true,
            create: true,
          });
        }
        await writeFull(this.#file, bytes);
      } catch (error) {
        this.#failed = true;
        this.onError(`cannot write the journal: ${(error as Error).message}`);
      }
    });
    return this.#chain;
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.#file?.close();
    this.#file = null;
  }
}

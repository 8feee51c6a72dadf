/**
 * Run logs: every run leaves an NDJSON record of its events in each destination
 * (`<destination>/.fanout/logs/<time>.ndjson`, that destination's events plus the run-wide
 * ones) and, with `--log FILE`, the whole run appended to FILE. Progress events are left
 * out: a log tells what happened, not how fast it looked. Writing never holds up the run:
 * lines go out in order through one async chain per file, and a log that cannot be written
 * is dropped with one warning.
 */
import { path } from "../deps.ts";
import { eventLine, type EventSink, type RunEvent } from "./events.ts";
import { RECORDS_FOLDER } from "./scan.ts";
import { writeFull } from "../copy/whole_buffer.ts";

export const LOGS_FOLDER = "logs";

/** Bytes of lines gathered before a write is started without waiting for the timer. */
const BATCH_BYTES = 64 * 1024;
/** Longest a line waits before it is written. */
const BATCH_DELAY_MS = 200;

/**
 * One NDJSON file written in the background. Lines are gathered and written in batches, one
 * write in flight at a time: a run of 100,000 files makes a few hundred writes, not one per
 * event, and lines waiting for the disk are held as one batch, not as a chain of promises.
 */
export class NdjsonLog {
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #failed = false;
  #encoder = new TextEncoder();

  private constructor(
    private readonly file: Deno.FsFile,
    readonly path: string,
    private readonly onError: (message: string) => void,
  ) {}

  /** Opens `file` for appending (creating it). Throws if it cannot. */
  static async open(file: string, onError: (message: string) => void): Promise<NdjsonLog> {
    const handle = await Deno.open(file, { append: true, create: true });
    return new NdjsonLog(handle, file, onError);
  }

  write(event: RunEvent): void {
    if (this.#failed) return;
    const line = eventLine(event);
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), BATCH_DELAY_MS);
  }

  /** Starts writing what is pending unless a write is in flight (it then continues). */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#pending.length === 0) return;
    this.#writing = this.#drain().finally(() => this.#writing = null);
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && !this.#failed) {
      const bytes = this.#encoder.encode(this.#pending.join(""));
      this.#pending = [];
      this.#pendingBytes = 0;
      try {
        await writeFull(this.file, bytes);
      } catch (error) {
        this.#failed = true;
        this.#pending = [];
        this.onError(`cannot write the log ${this.path}: ${(error as Error).message}`);
      }
    }
  }

  /** Waits for every line, then closes the file. */
  async close(): Promise<void> {
    this.#flush();
    await this.#writing;
    this.file.close();
  }
}

/** Whether an event belongs in a log: all but progress. */
export function isLogged(event: RunEvent): boolean {
  return event.type !== "progress";
}

/** The log name for a run started at `time`: sortable, and valid on every platform. */
export function logName(time: Date): string {
  return `${time.toISOString().replaceAll(":", "-")}.ndjson`;
}

/** The logs of one run in each destination. */
export class DestinationLogs {
  private constructor(private readonly logs: Map<string, NdjsonLog>) {}

  /**
   * Opens a new log in each destination (`roots[i]` is where `names[i]` lives) and removes
   * the oldest so that `keep` remain; `keep` 0 writes none. A destination whose log cannot
   * be opened is reported through `onError` and goes without.
   */
  static async open(
    names: string[],
    roots: string[],
    keep: number,
    started: Date,
    onError: (destination: string, message: string) => void,
  ): Promise<DestinationLogs> {
    const logs = new Map<string, NdjsonLog>();
    if (keep === 0) return new DestinationLogs(logs);
    await Promise.all(names.map(async (name, i) => {
      const folder = path.join(roots[i], RECORDS_FOLDER, LOGS_FOLDER);
      try {
        await Deno.mkdir(folder, { recursive: true });
        const log = await NdjsonLog.open(
          path.join(folder, logName(started)),
          (message) => onError(name, message),
        );
        logs.set(name, log);
        await prune(folder, keep);
      } catch (error) {
        onError(name, `cannot write a run log in ${folder}: ${(error as Error).message}`);
      }
    }));
    return new DestinationLogs(logs);
  }

  /** Logs an event in its destination's log, or in all for run-wide events. */
  emit: EventSink = (event) => {
    if (!isLogged(event)) return;
    const destination = "destination" in event ? event.destination : undefined;
    if (destination === undefined) {
      for (const log of this.logs.values()) log.write(event);
    } else {
      this.logs.get(destination)?.write(event);
    }
  };

  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.close()));
  }
}

/** Removes the oldest logs of a folder so that `keep` remain. */
async function prune(folder: string, keep: number): Promise<void> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && entry.name.endsWith(".ndjson")) names.push(entry.name);
  }
  names.sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    await Deno.remove(path.join(folder, name)).catch(() => {});
  }
}

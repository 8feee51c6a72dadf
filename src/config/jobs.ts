/**
 * Named jobs from the config file, `fanout.toml`: `fanout run card` runs the job `card` as
 * `fanout backup` would run its source, destinations and options.
 *
 * ```toml
 * # ~/.config/fanout/fanout.toml
 * [jobs.card]
 * source = "/media/card"                          # required
 * destinations = [                                 # required, at least one
 *   "/mnt/ssd/card",
 *   { path = "/mnt/nas/card", limit = "20MiB/s", workers = 2 },
 * ]
 * exclude = [".Trashes", "*.tmp"]                  # globs, as --exclude
 * include = ["DCIM/**"]                            # globs, as --include
 * only = ["raw", "video"]                          # presets, as --only; one string will do
 * priority = { "*.CR3" = "high", "*.MP4" = "low" } # glob = level, as --priority, in order
 * hash = "sha256"                                  # sha256, xxh128 or blake3, as --hash
 * ping = "https://hc-ping.com/your-uuid"          # an http:// or https:// URL
 * workers = "auto"                                 # "auto" or 1..64; a destination's wins
 * bwlimit = "50M"                                  # every destination; a destination's limit wins
 * retries = 3                                      # 0..100
 * verify = true
 * order = "small-first"                            # small-first, large-first or path
 * links = false
 * ```
 *
 * Rates read as on the command line (`24MiB/s`, `24M`, `500K`) or as a whole number of
 * bytes per second. In paths, `~` and `~/…` stand for the home folder, and a relative path
 * is relative to the config file's folder, so cron (which starts in $HOME) reads a job
 * just as a shell in any folder does. A key the job leaves out is null in its `Job`: the
 * command's default applies.
 *
 * Every problem is one line naming the file, the line and the key:
 * `/home/ana/.config/fanout/fanout.toml:5: jobs.card.destinations[1].limit: expected a rate …`.
 * Array elements count from 0.
 */
import { path } from "../deps.ts";
import { parseToml, TomlError } from "./deps.ts";
import { describeError, UsageError } from "../errors.ts";
import { parseRate, wholeNumber, workerCount } from "../cli/options.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import { type MediaPreset, PRESET_NAMES } from "../coordinator/filter.ts";
import { ORDERS, PRIORITIES, type TaskOrder } from "../queue/file_task.ts";
import { HASH_ALGORITHMS, type HashAlgorithm } from "../verify/hashers.ts";

/** One destination of a job; null where it takes the job's setting. */
export interface JobDestination {
  /** Absolute path. */
  path: string;
  /** Bytes per second. */
  limit: number | null;
  workers: number | "auto" | null;
}

/** A named job; null where the file leaves the key out. */
export interface Job {
  name: string;
  /** The config file it came from (absolute). */
  file: string;
  /** Absolute path. */
  source: string;
  destinations: JobDestination[];
  exclude: string[];
  include: string[];
  only: MediaPreset[];
  /** In file order: the last matching rule wins. */
  priorities: PriorityRule[];
  hash: HashAlgorithm;
  ping: string | null;
  workers: number | "auto" | null;
  /** Bytes per second, for every destination without its own limit. */
  bwlimit: number | null;
  retries: number | null;
  verify: boolean | null;
  order: TaskOrder | null;
  links: boolean | null;
}

/** A config file and its jobs by name, in file order. */
export interface Config {
  /** Absolute path. */
  file: string;
  jobs: Map<string, Job>;
}

/** A config file that is missing, unreadable or wrong: one line, exit code 2. */
export class ConfigError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const JOB_KEYS = [
  "source",
  "destinations",
  "exclude",
  "include",
  "only",
  "priority",
  "hash",
  "ping",
  "workers",
  "bwlimit",
  "retries",
  "verify",
  "order",
  "links",
] as const;

const DESTINATION_KEYS = ["path", "limit", "workers"] as const;

/** Safe in a file name and on a command line, and never taken for an option. */
const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** TOML's bare keys; any other key is written quoted. */
const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Keys from the top of the document down; a number is an array index. */
type KeyPath = readonly (string | number)[];

/** What reading needs besides the values: where they came from, for messages and paths. */
interface Context {
  /** Absolute path of the config file. */
  file: string;
  text: string;
  home: string | undefined;
}

/** Reads one value found at `at`; throws a ConfigError if it is not what the key takes. */
type Read<T> = (context: Context, value: unknown, at: KeyPath) => T;

/**
 * Parses and validates the text of a config file. `home` expands "~".
 *
 * @example
 * const config = parseConfig(
 *   '[jobs.card]\nsource = "/media/card"\ndestinations = ["~/backup"]\n',
 *   "/home/ana/.config/fanout/fanout.toml",
 *   "/home/ana",
 * );
 * config.jobs.get("card")!.destinations[0].path; // "/home/ana/backup"
 */
export function parseConfig(text: string, file: string, home: string | undefined): Config {
  const context: Context = { file: path.resolve(file), text, home };
  const document = parseDocument(context);
  for (const key of Object.keys(document)) {
    if (key !== "jobs") {
      fail(
        context,
        [key],
        `unknown key '${
          formatPath([key])
        }'; known keys: jobs (a job's keys go in its [jobs.NAME] table)`,
      );
    }
  }
  const jobs = new Map<string, Job>();
  if (document.jobs !== undefined) {
    const table = readTable(
      context,
      document.jobs,
      ["jobs"],
      "a table of jobs such as [jobs.card]",
    );
    for (const [name, value] of Object.entries(table)) {
      jobs.set(name, readJob(context, name, value));
    }
  }
  if (jobs.size === 0) {
    fail(context, ["jobs"], "no jobs; add one such as [jobs.card] with source and destinations");
  }
  return { file: context.file, jobs };
}

/**
 * Reads `file` and parses it; a missing or unreadable file is a ConfigError naming it.
 *
 * @example
 * const config = await loadConfig("/home/ana/.config/fanout/fanout.toml", "/home/ana");
 */
export async function loadConfig(file: string, home: string | undefined): Promise<Config> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await Deno.readTextFile(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        `${absolute}: no config file there; create it with a job, e.g. [jobs.card] with source = "/media/card" and destinations = ["/mnt/ssd/card"], or name another with --config`,
      );
    }
    throw new ConfigError(`${absolute}: cannot read the config file: ${firstLine(error)}`);
  }
  return parseConfig(text, absolute, home);
}

/**
 * The job named `name`, or a ConfigError listing the job names the file has.
 *
 * @example
 * findJob(config, "card").source; // "/media/card"
 */
export function findJob(config: Config, name: string): Job {
  const job = config.jobs.get(name);
  if (job) return job;
  throw new ConfigError(
    `${config.file}: ${formatPath(["jobs", name])}: no such job; the jobs are: ${
      [...config.jobs.keys()].join(", ")
    }`,
  );
}

/**
 * The default config path for the platform: `$XDG_CONFIG_HOME/fanout/fanout.toml` or
 * `~/.config/fanout/fanout.toml` on Linux and other Unixes,
 * `~/Library/Application Support/fanout/fanout.toml` on macOS,
 * `%APPDATA%\fanout\fanout.toml` on Windows. Null when the variable it needs is unset.
 *
 * @example
 * defaultConfigPath("linux", (name) => ({ HOME: "/home/ana" })[name]);
 * // "/home/ana/.config/fanout/fanout.toml"
 */
export function defaultConfigPath(
  os: typeof Deno.build.os,
  env: (name: string) => string | undefined,
): string | null {
  if (os === "windows") {
    const appData = env("APPDATA");
    return appData ? path.win32.join(appData, "fanout", "fanout.toml") : null;
  }
  const home = env("HOME");
  if (os === "darwin") {
    return home
      ? path.posix.join(home, "Library", "Application Support", "fanout", "fanout.toml")
      : null;
  }
  // The XDG spec says a relative XDG_CONFIG_HOME is to be ignored.
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, "fanout", "fanout.toml");
  return home ? path.posix.join(home, ".config", "fanout", "fanout.toml") : null;
}

function parseDocument(context: Context): Record<string, unknown> {
  try {
    return parseToml(context.text);
  } catch (error) {
    const where = error instanceof TomlError ? `${context.file}:${error.line}` : context.file;
    const problem = firstLine(error).replace(/^Invalid TOML document: /, "");
    throw new ConfigError(`${where}: not valid TOML: ${problem}`);
  }
}

function readJob(context: Context, name: string, value: unknown): Job {
  const at = ["jobs", name];
  if (!JOB_NAME.test(name)) {
    fail(
      context,
      at,
      "bad job name; use letters, digits, -, _ and . only, starting with a letter or digit",
    );
  }
  const table = readTable(context, value, at, "a table such as [jobs.card]");
  checkKeys(context, table, at, JOB_KEYS);
  if (table.source === undefined) {
    fail(
      context,
      [...at, "source"],
      'missing; give the folder to back up, e.g. source = "/media/card"',
    );
  }
  if (table.destinations === undefined) {
    fail(
      context,
      [...at, "destinations"],
      'missing; give the folders to back up into, e.g. destinations = ["/mnt/ssd/card"]',
    );
  }
  const read = <T>(key: typeof JOB_KEYS[number], reader: Read<T>): T | null =>
    table[key] === undefined ? null : reader(context, table[key], [...at, key]);
  return {
    name,
    file: context.file,
    source: readPath(context, table.source, [...at, "source"]),
    destinations: readDestinations(context, table.destinations, [...at, "destinations"]),
    exclude: read("exclude", readGlobs) ?? [],
    include: read("include", readGlobs) ?? [],
    only: read("only", readPresets) ?? [],
    priorities: read("priority", readPriorities) ?? [],
    hash: read("hash", readHash) ?? "sha256",
    ping: read("ping", readPing),
    workers: read("workers", readWorkers),
    bwlimit: read("bwlimit", readRate),
    retries: read("retries", readRetries),
    verify: read("verify", readBoolean),
    order: read("order", readOrder),
    links: read("links", readBoolean),
  };
}

function readDestinations(context: Context, value: unknown, at: KeyPath): JobDestination[] {
  const items = readArray(context, value, at, 'an array of folders such as ["/mnt/ssd/card"]');
  if (items.length === 0) fail(context, at, "empty; give at least one folder to back up into");
  return items.map((item, index) => readDestination(context, item, [...at, index]));
}

function readDestination(context: Context, value: unknown, at: KeyPath): JobDestination {
  if (typeof value === "string") {
    return { path: readPath(context, value, at), limit: null, workers: null };
  }
  const table = readTable(
    context,
    value,
    at,
    'a folder or a table such as { path = "/mnt/nas/card", limit = "20MiB/s" }',
  );
  checkKeys(context, table, at, DESTINATION_KEYS);
  if (table.path === undefined) {
    fail(
      context,
      [...at, "path"],
      'missing; give the folder to back up into, e.g. path = "/mnt/nas/card"',
    );
  }
  return {
    path: readPath(context, table.path, [...at, "path"]),
    limit: table.limit === undefined ? null : readRate(context, table.limit, [...at, "limit"]),
    workers: table.workers === undefined
      ? null
      : readWorkers(context, table.workers, [...at, "workers"]),
  };
}

/** A folder: "~" is the home folder; a relative path is relative to the config's folder. */
function readPath(context: Context, value: unknown, at: KeyPath): string {
  const given = readString(context, value, at, "a path");
  if (given === "") fail(context, at, "expected a path, got an empty string");
  if (!given.startsWith("~")) return path.resolve(path.dirname(context.file), given);
  if (!/^~($|[\\/])/.test(given)) {
    fail(
      context,
      at,
      `cannot expand ${JSON.stringify(given)}: only ~ and ~/… are expanded; write the full path`,
    );
  }
  if (context.home === undefined) {
    fail(
      context,
      at,
      "cannot expand ~: the home folder is not known (HOME is not set); write the full path",
    );
  }
  return path.resolve(context.home, given.slice(2));
}

function readGlobs(context: Context, value: unknown, at: KeyPath): string[] {
  return readArray(context, value, at, 'an array of globs such as ["*.tmp"]')
    .map((item, index) => readGlob(context, item, [...at, index]));
}

function readGlob(context: Context, value: unknown, at: KeyPath): string {
  const glob = readString(context, value, at, "a glob");
  if (glob === "") fail(context, at, 'expected a glob such as "*.tmp", got an empty string');
  return glob;
}

function readPresets(context: Context, value: unknown, at: KeyPath): MediaPreset[] {
  if (typeof value === "string") return [readChoice(context, value, at, PRESET_NAMES)];
  return readArray(
    context,
    value,
    at,
    `a preset or an array of presets (${PRESET_NAMES.join(", ")})`,
  )
    .map((item, index) => readChoice(context, item, [...at, index], PRESET_NAMES));
}

function readPriorities(context: Context, value: unknown, at: KeyPath): PriorityRule[] {
  const table = readTable(
    context,
    value,
    at,
    'a table of glob = level such as { "*.CR3" = "high" }',
  );
  return Object.entries(table).map(([pattern, level]) => {
    if (pattern === "") {
      fail(context, [...at, pattern], 'expected a glob such as "*.CR3", got an empty key');
    }
    return { pattern, priority: readChoice(context, level, [...at, pattern], PRIORITIES) };
  });
}

function readHash(context: Context, value: unknown, at: KeyPath): HashAlgorithm {
  return readChoice(context, value, at, HASH_ALGORITHMS);
}

/** The URL is not repeated in the message: it holds the check's secret. */
function readPing(context: Context, value: unknown, at: KeyPath): string {
  const url = readString(context, value, at, "an http:// or https:// URL");
  const protocol = URL.canParse(url) ? new URL(url).protocol : "";
  if (protocol !== "http:" && protocol !== "https:") {
    fail(
      context,
      at,
      'expected an http:// or https:// URL such as "https://hc-ping.com/your-uuid"',
    );
  }
  return url;
}

function readWorkers(context: Context, value: unknown, at: KeyPath): number | "auto" {
  const expected = '"auto" or a whole number from 1 to 64';
  if (typeof value !== "string" && !Number.isInteger(value)) {
    fail(context, at, `expected ${expected}, got ${kind(value)}`);
  }
  try {
    return workerCount(String(value));
  } catch {
    fail(context, at, `expected ${expected}, got ${JSON.stringify(value)}`);
  }
}

/** A rate as on the command line ("24MiB/s", "500K"), or whole bytes per second. */
function readRate(context: Context, value: unknown, at: KeyPath): number {
  if (typeof value !== "string" && !Number.isInteger(value)) {
    fail(context, at, `expected a rate such as "24MiB/s", "24M" or "500K", got ${kind(value)}`);
  }
  try {
    return parseRate(String(value));
  } catch (error) {
    fail(context, at, `${optionProblem(error)}, got ${JSON.stringify(value)}`);
  }
}

function readRetries(context: Context, value: unknown, at: KeyPath): number {
  if (!Number.isInteger(value)) {
    fail(context, at, `expected a whole number from 0 to 100, got ${kind(value)}`);
  }
  try {
    return wholeNumber(0, 100)(String(value));
  } catch (error) {
    fail(context, at, `${optionProblem(error)}, got ${value}`);
  }
}

function readOrder(context: Context, value: unknown, at: KeyPath): TaskOrder {
  return readChoice(context, value, at, ORDERS);
}

function readBoolean(context: Context, value: unknown, at: KeyPath): boolean {
  if (typeof value !== "boolean") fail(context, at, `expected true or false, got ${kind(value)}`);
  return value;
}

function readChoice<T extends string>(
  context: Context,
  value: unknown,
  at: KeyPath,
  choices: readonly T[],
): T {
  const choice = readString(context, value, at, `one of ${choices.join(", ")}`);
  if (!(choices as readonly string[]).includes(choice)) {
    fail(context, at, `expected one of ${choices.join(", ")}, got ${JSON.stringify(choice)}`);
  }
  return choice as T;
}

function readString(context: Context, value: unknown, at: KeyPath, expected = "a string"): string {
  if (typeof value !== "string") fail(context, at, `expected ${expected}, got ${kind(value)}`);
  return value;
}

function readArray(context: Context, value: unknown, at: KeyPath, expected: string): unknown[] {
  if (!Array.isArray(value)) fail(context, at, `expected ${expected}, got ${kind(value)}`);
  return value;
}

function readTable(
  context: Context,
  value: unknown,
  at: KeyPath,
  expected: string,
): Record<string, unknown> {
  if (
    typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date
  ) {
    fail(context, at, `expected ${expected}, got ${kind(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkKeys(
  context: Context,
  table: Record<string, unknown>,
  at: KeyPath,
  known: readonly string[],
): void {
  for (const key of Object.keys(table)) {
    if (!known.includes(key)) {
      fail(
        context,
        [...at, key],
        `unknown key '${formatPath([key])}'; known keys: ${known.join(", ")}`,
      );
    }
  }
}

/** What a TOML value is, for "expected a string, got an integer". */
function kind(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (typeof value === "bigint") return "an integer";
  if (typeof value === "boolean") return "a boolean";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  return "a table";
}

/** A commander message ("Expected a rate …, at least 1 byte.") as part of ours. */
function optionProblem(error: unknown): string {
  const message = firstLine(error);
  return message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, "");
}

function firstLine(error: unknown): string {
  return describeError(error).split("\n")[0];
}

function fail(context: Context, at: KeyPath, problem: string): never {
  const line = lineOf(context.text, at);
  const where = line === undefined ? context.file : `${context.file}:${line}`;
  throw new ConfigError(`${where}: ${formatPath(at)}: ${problem}`);
}

/**
 * A key path as TOML writes it: `jobs.card.destinations[1].limit`,
 * `jobs.card.priority."*.CR3"`.
 */
function formatPath(at: KeyPath): string {
  return at.map((key, index) => {
    if (typeof key === "number") return `[${key}]`;
    const name = BARE_KEY.test(key) ? key : JSON.stringify(key);
    return index === 0 ? name : `.${name}`;
  }).join("");
}

/**
 * The line where `at` is written, else where the nearest table around it is, else
 * undefined. A line is a help for the reader: finding it never throws.
 */
function lineOf(text: string, at: KeyPath): number | undefined {
  try {
    const offsets = new KeyLocator(text).scan();
    for (let length = at.length; length > 0; length--) {
      const offset = offsets.get(JSON.stringify(at.slice(0, length)));
      if (offset !== undefined) return text.slice(0, offset).split("\n").length;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where each key of a TOML text is first written, by key path (JSON of the path, array
 * elements by index), as offsets into the text. smol-toml gives no positions, so this reads
 * the layouts people write: headers (dotted, quoted, `[[…]]`), `key =` and dotted keys,
 * arrays and inline tables over several lines, strings of every kind, comments. It runs only
 * on text smol-toml has accepted, and gives up on anything else rather than guess.
 */
class KeyLocator {
  #offsets = new Map<string, number>();
  /** Tables seen of each `[[array]]`, for the index of the next. */
  #arrayTables = new Map<string, number>();
  #at = 0;

  constructor(readonly text: string) {}

  scan(): Map<string, number> {
    let table: KeyPath = [];
    while (this.#skipBlank()) {
      const start = this.#at;
      if (this.text[start] === "[") table = this.#header() ?? table;
      else this.#assignment(table);
      this.#skipLine();
      if (this.#at === start) return this.#offsets;
    }
    return this.#offsets;
  }

  /** Notes `at`, and the tables it implies, where they are first written. */
  #note(at: KeyPath, offset: number): void {
    for (let length = 1; length <= at.length; length++) {
      const id = JSON.stringify(at.slice(0, length));
      if (!this.#offsets.has(id)) this.#offsets.set(id, offset);
    }
  }

  #header(): KeyPath | null {
    const start = this.#at;
    const isArray = this.text.startsWith("[[", start);
    this.#at += isArray ? 2 : 1;
    const key = this.#key();
    if (key === null) return null;
    let table: KeyPath = key;
    if (isArray) {
      const id = JSON.stringify(key);
      const index = this.#arrayTables.get(id) ?? 0;
      this.#arrayTables.set(id, index + 1);
      table = [...key, index];
    }
    this.#note(table, start);
    return table;
  }

  #assignment(table: KeyPath): void {
    const start = this.#at;
    const key = this.#key();
    if (key === null) return;
    const at = [...table, ...key];
    this.#note(at, start);
    this.#skipSpace();
    if (this.text[this.#at] !== "=") return;
    this.#at++;
    this.#skipSpace();
    this.#value(at);
  }

  #value(at: KeyPath): void {
    const c = this.text[this.#at];
    if (c === "[") this.#array(at);
    else if (c === "{") this.#inlineTable(at);
    else if (c === '"' || c === "'") this.#string();
    else {
      while (this.#at < this.text.length && !",]}#\r\n".includes(this.text[this.#at])) this.#at++;
    }
  }

  #array(at: KeyPath): void {
    this.#at++;
    for (let index = 0; this.#skipBlank() && this.text[this.#at] !== "]"; index++) {
      const start = this.#at;
      this.#note([...at, index], start);
      this.#value([...at, index]);
      this.#skipBlank();
      if (this.text[this.#at] === ",") this.#at++;
      else if (this.#at === start) return;
    }
    this.#at++;
  }

  #inlineTable(at: KeyPath): void {
    this.#at++;
    while (this.#skipBlank() && this.text[this.#at] !== "}") {
      const start = this.#at;
      const key = this.#key();
      if (key === null) return;
      this.#note([...at, ...key], start);
      this.#skipSpace();
      if (this.text[this.#at] === "=") this.#at++;
      this.#skipSpace();
      this.#value([...at, ...key]);
      this.#skipBlank();
      if (this.text[this.#at] === ",") this.#at++;
    }
    this.#at++;
  }

  /** A dotted key such as `card.source` or `jobs."my card"`; null if there is none. */
  #key(): string[] | null {
    const parts: string[] = [];
    for (;;) {
      this.#skipSpace();
      const part = this.#keyPart();
      if (part === null) return null;
      parts.push(part);
      this.#skipSpace();
      if (this.text[this.#at] !== ".") return parts;
      this.#at++;
    }
  }

  #keyPart(): string | null {
    const start = this.#at;
    const quote = this.text[start];
    if (quote === '"' || quote === "'") {
      this.#string();
      const written = this.text.slice(start + 1, this.#at - 1);
      return quote === "'" ? written : unescapeKey(written);
    }
    const bare = /[A-Za-z0-9_-]+/y;
    bare.lastIndex = start;
    const match = bare.exec(this.text);
    if (match === null) return null;
    this.#at = bare.lastIndex;
    return match[0];
  }

  /** Skips a string of any kind: "basic", 'literal', and both over several lines. */
  #string(): void {
    const quote = this.text[this.#at];
    const delimiter = this.text.startsWith(quote.repeat(3), this.#at) ? quote.repeat(3) : quote;
    this.#at += delimiter.length;
    while (this.#at < this.text.length) {
      const c = this.text[this.#at];
      if (quote === '"' && c === "\\") this.#at += 2;
      else if (this.text.startsWith(delimiter, this.#at)) {
        this.#at += delimiter.length;
        // A multi-line string may end with one or two quotes of its own before its delimiter.
        for (
          let extra = 0;
          extra < 2 && delimiter.length === 3 && this.text[this.#at] === quote;
          extra++
        ) {
          this.#at++;
        }
        return;
      } else if (c === "\n" && delimiter.length === 1) return;
      else this.#at++;
    }
  }

  #skipSpace(): void {
    while (this.text[this.#at] === " " || this.text[this.#at] === "\t") this.#at++;
  }

  /** Skips spaces, line ends and comments; false at the end of the text. */
  #skipBlank(): boolean {
    while (this.#at < this.text.length) {
      const c = this.text[this.#at];
      if (c === "#") this.#skipLine();
      else if (" \t\r\n\uFEFF".includes(c)) this.#at++;
      else return true;
    }
    return false;
  }

  #skipLine(): void {
    const end = this.text.indexOf("\n", this.#at);
    this.#at = end < 0 ? this.text.length : end;
  }
}

/** A quoted key's text; TOML's escapes are JSON's but for a few that keys hardly use. */
function unescapeKey(written: string): string {
  try {
    return JSON.parse(`"${written}"`);
  } catch {
    return written;
  }
}

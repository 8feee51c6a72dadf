/** Parsers for option values: a bad value is a one-line usage error naming the option. */
import { path } from "../deps.ts";
import { type Command, InvalidArgumentError, type OptionValues } from "./deps.ts";
import { UsageError } from "../errors.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import { PRIORITIES, type TaskPriority } from "../queue/file_task.ts";
import { jsonRenderer } from "../ui/json.ts";
import { plainRenderer } from "../ui/plain.ts";
import { type Renderer, terminalRenderer } from "../ui/terminal.ts";
import { beforeExit } from "./signals.ts";
import { NdjsonLog } from "../coordinator/run_log.ts";
import { writeStderr } from "../ui/output.ts";

/**
 * A parser for a whole number from `min` to `max`, for commander.
 *
 * @example
 * wholeNumber(1, 64)("8"); // 8
 */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return number;
  };
}

const RATE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
};

/**
 * Reads a rate in bytes per second with binary units: `24MiB/s`, `24M`, `500K`, `1.5G`,
 * `800000`. K, KB and KiB all mean 1024 bytes, as in rsync's --bwlimit.
 *
 * @example
 * parseRate("24MiB/s"); // 25165824
 */
export function parseRate(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*?)(?:\/s)?\s*$/i.exec(value);
  const unit = match ? RATE_UNITS[match[2].toLowerCase()] : undefined;
  const rate = match && unit ? Number(match[1]) * unit : 0;
  if (!(rate >= 1)) {
    throw new InvalidArgumentError(
      `Expected a rate in bytes per second such as 24MiB/s, 24M or 500K, at least 1 byte.`,
    );
  }
  return Math.round(rate);
}

/**
 * `--workers`: "auto" or a whole number from 1 to 64.
 *
 * @example
 * workerCount("auto"); // "auto"
 */
export function workerCount(value: string): number | "auto" {
  return value === "auto" ? "auto" : wholeNumber(1, 64)(value);
}

/**
 * `--priority GLOB=LEVEL`.
 *
 * @example
 * parsePriority("*.CR3=high"); // { pattern: "*.CR3", priority: "high" }
 */
export function parsePriority(value: string): PriorityRule {
  const split = value.lastIndexOf("=");
  const priority = value.slice(split + 1) as TaskPriority;
  if (split <= 0 || !PRIORITIES.includes(priority)) {
    throw new InvalidArgumentError(
      `Expected GLOB=LEVEL with LEVEL one of ${PRIORITIES.join(", ")}, e.g. '*.CR3=high'.`,
    );
  }
  return { pattern: value.slice(0, split), priority };
}

/** `--limit DEST=RATE`, before DEST is matched to a destination. */
export interface DestinationLimit {
  destination: string;
  rate: number;
}

export function parseDestinationLimit(value: string): DestinationLimit {
  const split = value.lastIndexOf("=");
  if (split <= 0) {
    throw new InvalidArgumentError(`Expected DEST=RATE, e.g. '/mnt/nas/card=24MiB/s' or '2=24M'.`);
  }
  return { destination: value.slice(0, split), rate: parseRate(value.slice(split + 1)) };
}

/**
 * The rate of each destination: its `--limit` if one names it (by the path as given, the
 * same folder, or its position from 1), else `--bwlimit`, else none.
 */
export function destinationRates(
  destinations: string[],
  bwlimit: number | null,
  limits: DestinationLimit[],
): (number | null)[] {
  const rates: (number | null)[] = destinations.map(() => bwlimit);
  for (const limit of limits) {
    const index = destinations.findIndex((destination, i) =>
      destination === limit.destination || String(i + 1) === limit.destination ||
      path.resolve(destination) === path.resolve(limit.destination)
    );
    if (index < 0) {
      throw new UsageError(
        `--limit ${limit.destination}=… names no destination of this run; give a destination as written or its position (1 to ${destinations.length})`,
      );
    }
    rates[index] = limit.rate;
  }
  return rates;
}

/** Opens `--log FILE` for appending; a file that cannot be written is a usage error. */
export async function openRunLog(file: string): Promise<NdjsonLog> {
  try {
    return await NdjsonLog.open(file, (message) => writeStderr(`fanout: ${message}\n`));
  } catch (error) {
    throw new UsageError(`cannot write the log file ${file}: ${(error as Error).message}`);
  }
}

/** Adds the output options every command has: --json, --quiet, --verbose, --progress-interval. */
export function outputOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .option("--json", "write NDJSON events to stdout instead of text to stderr")
    .option("-q, --quiet", "print only errors and the summary")
    .option("-v, --verbose", "print a line for every file")
    .option(
      "--progress-interval <seconds>",
      "seconds between progress lines when not on a terminal",
      wholeNumber(0, 86_400),
      10,
    );
}

/** Output options shared by the commands. */
export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** Seconds between progress lines in plain output. */
  progressInterval?: number;
}

/**
 * The renderer for a command's output options: NDJSON with --json, plain lines for --quiet
 * or when stderr is not a terminal (cron, a pipe), the live display otherwise. It is
 * closed on Ctrl-C too, so the terminal gets its cursor back.
 */
export function rendererFor(options: OutputOptions): Renderer {
  const { json, quiet, verbose, progressInterval = 10 } = options;
  let renderer: Renderer;
  if (json) renderer = { emit: jsonRenderer(), close: () => {} };
  else if (quiet || !Deno.stderr.isTerminal()) {
    renderer = {
      emit: plainRenderer(undefined, {
        quiet,
        verbose,
        progressIntervalMs: progressInterval * 1000,
      }),
      close: () => {},
    };
  } else renderer = terminalRenderer(undefined, { verbose });
  beforeExit(renderer.close);
  return renderer;
}

/** Adds the log options of the commands that back up: --log and --keep-logs. */
export function logOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .option("--log <file>", "append the run's events (NDJSON, without progress) to FILE")
    .option(
      "--keep-logs <n>",
      "run logs to keep in each destination's .fanout/logs (0: write none)",
      wholeNumber(0, 100_000),
      50,
    );
}

/** `fanout backup <source> <destination...>`, and the run a named job shares with it. */
import { Command, InvalidArgumentError, Option } from "./deps.ts";
import { BackupCoordinator, type BackupSettings } from "../coordinator/coordinator.ts";
import type { RunEvent } from "../coordinator/events.ts";
import { isLogged } from "../coordinator/run_log.ts";
import { onStopRequest } from "./signals.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import { type MediaPreset, PRESET_NAMES } from "../coordinator/filter.ts";
import { parsePingUrl, Pinger } from "./ping.ts";
import { ORDERS, PRIORITIES } from "../queue/file_task.ts";
import { HASH_ALGORITHMS } from "../verify/hashers.ts";
import {
  type DestinationLimit,
  destinationRates,
  logOptions,
  openRunLog,
  type OutputOptions,
  outputOptions,
  parseDestinationLimit,
  parsePriority,
  parseRate,
  rendererFor,
  wholeNumber,
  workerCount,
} from "./options.ts";

/** Pause before the first retry of a file; it doubles on each further one. */
export const RETRY_PAUSE_MS = 500;

/** Extra attempts for a file unless --retries (or a job's `retries`) says otherwise. */
export const DEFAULT_RETRIES = 3;

/** What a run needs besides its settings: where its events go, and whom to ping. */
export interface RunExtras {
  output: OutputOptions;
  /** --log FILE. */
  log: string | null;
  /** --ping URL. */
  ping: string | null;
}

/**
 * Runs one backup with `settings` and returns its exit code; `fanout backup` and
 * `fanout run JOB` both end here. A run that throws (refused for a missing source or a
 * lock, or an internal error) still sends the failure ping before the error goes up.
 */
export async function runBackup(settings: BackupSettings, extras: RunExtras): Promise<number> {
  const pingUrl = extras.ping === null ? null : parsePingUrl(extras.ping);
  const log = extras.log ? await openRunLog(extras.log) : null;
  const renderer = rendererFor(extras.output);
  const sink = (event: RunEvent) => {
    renderer.emit(event);
    if (log && isLogged(event)) log.write(event);
  };
  const pinger = pingUrl
    ? new Pinger(pingUrl, (message) => sink({ type: "warning", message }))
    : null;
  pinger?.start();
  const coordinator = new BackupCoordinator(settings, sink);
  onStopRequest((signal, exitCode) => coordinator.stop(signal, exitCode));
  try {
    const { exitCode } = await coordinator.run();
    await pinger?.end(exitCode === 0);
    return exitCode;
  } catch (error) {
    await pinger?.end(false);
    throw error;
  } finally {
    renderer.close();
    await log?.close();
  }
}

/**
 * `--only PRESET`, repeatable. Its choices are set for `--help` and the shell completions
 * to list; the parser checks each value and collects every one given.
 */
function onlyOption() {
  const option = new Option(
    "--only <preset>",
    "take only one kind of media (photos takes RAW files too); repeatable",
  )
    .argParser((value: string, presets: MediaPreset[]) => {
      if (!PRESET_NAMES.includes(value as MediaPreset)) {
        throw new InvalidArgumentError(`Expected one of ${PRESET_NAMES.join(", ")}.`);
      }
      return [...presets, value as MediaPreset];
    })
    .default([] as MediaPreset[]);
  option.argChoices = [...PRESET_NAMES];
  return option;
}

const collect = (value: string, values: string[]) => [...values, value];

/** Builds the command; `setExitCode` receives the run's exit code. */
export function backupCommand(setExitCode: (code: number) => void) {
  return logOptions(outputOptions(new Command("backup")))
    .summary("copy a folder to several destinations at once, verified")
    .description(
      "Copy a source folder to one or more destinations at once, each at its own speed, and prove every copy by reading it back.",
    )
    .argument("<source>", "folder to back up")
    .argument("<destination...>", "folders to back up into (created if their parent exists)")
    .option(
      "--workers <auto|n>",
      "concurrent copies per destination; auto adapts 1..8 to measured throughput",
      workerCount,
      "auto" as const,
    )
    .option(
      "--retries <n>",
      "extra attempts for a file that fails to copy or verify",
      wholeNumber(0, 100),
      DEFAULT_RETRIES,
    )
    .option("--links", "copy symlinks as symlinks (their target as it is, never followed)")
    .option("--no-verify", "skip reading the copies back (they are still hashed from the source)")
    .addOption(
      new Option(
        "--hash <algorithm>",
        "hash of the copies and their records (xxh128, blake3: faster)",
      )
        .choices(HASH_ALGORITHMS)
        .default("sha256" as const),
    )
    .addOption(
      new Option("--order <order>", "which files go first, within a priority")
        .choices(ORDERS)
        .default("small-first" as const),
    )
    .option(
      "--priority <glob=level>",
      `copy matching files earlier or later (level: ${PRIORITIES.join(", ")}); repeatable`,
      (value: string, rules: PriorityRule[]) => [...rules, parsePriority(value)],
      [] as PriorityRule[],
    )
    .option(
      "--bwlimit <rate>",
      "limit every destination to RATE bytes/s (e.g. 24MiB/s, 500K)",
      parseRate,
    )
    .option(
      "--limit <dest=rate>",
      "limit one destination (its path as given, or its position from 1); repeatable",
      (value: string, limits: DestinationLimit[]) => [...limits, parseDestinationLimit(value)],
      [] as DestinationLimit[],
    )
    .option(
      "--exclude <glob>",
      "leave out files and folders that match (a glob without / matches a name anywhere); repeatable",
      collect,
      [] as string[],
    )
    .option(
      "--include <glob>",
      "take only files that match (an exclude still wins); repeatable",
      collect,
      [] as string[],
    )
    .addOption(onlyOption())
    .option("--ping <url>", "tell a cron monitor: GET URL/start, then URL or URL/fail")
    .action(async (source, destinations, options) => {
      const settings: BackupSettings = {
        source,
        destinations,
        workers: destinations.map(() => options.workers),
        retries: options.retries,
        retryPauseMs: RETRY_PAUSE_MS,
        verify: options.verify,
        order: options.order,
        priorities: options.priority,
        limits: destinationRates(destinations, options.bwlimit ?? null, options.limit),
        keepLogs: options.keepLogs,
        links: options.links ?? false,
        filter: { exclude: options.exclude, include: options.include, only: options.only },
        hash: options.hash,
      };
      setExitCode(
        await runBackup(settings, {
          output: options,
          log: options.log ?? null,
          ping: options.ping ?? null,
        }),
      );
    });
}

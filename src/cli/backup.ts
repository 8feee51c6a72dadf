/** `fanout backup <source> <destination...>` */
import { Command, Option } from "../deps.ts";
import { BackupCoordinator } from "../coordinator/coordinator.ts";
import type { RunEvent } from "../coordinator/events.ts";
import { isLogged } from "../coordinator/run_log.ts";
import { onStopRequest } from "./signals.ts";
import type { PriorityRule } from "../coordinator/messages.ts";
import { ORDERS, PRIORITIES } from "../queue/file_task.ts";
import {
  type DestinationLimit,
  destinationRates,
  openRunLog,
  outputOptions,
  parseDestinationLimit,
  parsePriority,
  parseRate,
  rendererFor,
  wholeNumber,
  workerCount,
} from "./options.ts";

/** Pause before the first retry of a file; it doubles on each further one. */
const RETRY_PAUSE_MS = 500;

/** Builds the command; `setExitCode` receives the run's exit code. */
export function backupCommand(setExitCode: (code: number) => void) {
  return outputOptions(new Command("backup"))
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
      3,
    )
    .option("--links", "copy symlinks as symlinks (their target as it is, never followed)")
    .option("--no-verify", "skip reading the copies back (they are still hashed from the source)")
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
    .option("--log <file>", "append the run's events (NDJSON, without progress) to FILE")
    .option(
      "--keep-logs <n>",
      "run logs to keep in each destination's .fanout/logs (0: write none)",
      wholeNumber(0, 100_000),
      50,
    )
    .action(async (source, destinations, options) => {
      const settings = {
        source,
        destinations,
        workers: options.workers,
        retries: options.retries,
        retryPauseMs: RETRY_PAUSE_MS,
        verify: options.verify,
        order: options.order,
        priorities: options.priority,
        limits: destinationRates(destinations, options.bwlimit ?? null, options.limit),
        keepLogs: options.keepLogs,
        links: options.links ?? false,
      };
      const log = options.log ? await openRunLog(options.log) : null;
      const renderer = rendererFor(options);
      const sink = (event: RunEvent) => {
        renderer.emit(event);
        if (log && isLogged(event)) log.write(event);
      };
      const coordinator = new BackupCoordinator(settings, sink);
      onStopRequest((signal, exitCode) => coordinator.stop(signal, exitCode));
      try {
        setExitCode((await coordinator.run()).exitCode);
      } finally {
        renderer.close();
        await log?.close();
      }
    });
}

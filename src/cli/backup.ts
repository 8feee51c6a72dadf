/** `fanout backup <source> <destination...>` */
import { Command } from "../deps.ts";
import { BackupCoordinator } from "../coordinator/coordinator.ts";
import { rendererFor, wholeNumber } from "./options.ts";

/** Pause before the first retry of a file; it doubles on each further one. */
const RETRY_PAUSE_MS = 500;

/** Builds the command; `setExitCode` receives the run's exit code. */
export function backupCommand(setExitCode: (code: number) => void) {
  return new Command("backup")
    .summary("copy a folder to several destinations at once, verified")
    .description(
      "Copy a source folder to one or more destinations at once, each at its own speed, and prove every copy by reading it back.",
    )
    .argument("<source>", "folder to back up")
    .argument("<destination...>", "folders to back up into (created if their parent exists)")
    .option("--workers <n>", "concurrent copies per destination", wholeNumber(1, 64), 4)
    .option(
      "--retries <n>",
      "extra attempts for a file that fails to copy or verify",
      wholeNumber(0, 100),
      3,
    )
    .option("--no-verify", "skip reading the copies back (they are still hashed from the source)")
    .option("--json", "write NDJSON events to stdout instead of text to stderr")
    .action(async (source, destinations, options) => {
      const coordinator = new BackupCoordinator({
        source,
        destinations,
        workers: options.workers,
        retries: options.retries,
        retryPauseMs: RETRY_PAUSE_MS,
        verify: options.verify,
      }, rendererFor(options));
      setExitCode((await coordinator.run()).exitCode);
    });
}

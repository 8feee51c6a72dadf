/** `fanout run JOB`: a named job from the config file (fanout.toml), run as `backup` would. */
import { path } from "../deps.ts";
import { Command } from "./deps.ts";
import type { BackupSettings } from "../coordinator/coordinator.ts";
import { defaultConfigPath, findJob, type Job, loadConfig } from "../config/jobs.ts";
import { UsageError } from "../errors.ts";
import { envVar } from "../permissions.ts";
import { DEFAULT_RETRIES, RETRY_PAUSE_MS, runBackup } from "./backup.ts";
import { logOptions, outputOptions } from "./options.ts";

/** The home folder, for "~" in config files; undefined without --allow-env. */
export function homeFolder(): string | undefined {
  return envVar("HOME") ?? envVar("USERPROFILE");
}

/**
 * The config file: `--config` as given, else the platform's default path.
 *
 * @example
 * configFile(undefined); // "/home/ana/.config/fanout/fanout.toml" on Linux
 */
export function configFile(given: string | undefined): string {
  if (given !== undefined) return path.resolve(given);
  const found = defaultConfigPath(Deno.build.os, envVar);
  if (found === null) {
    throw new UsageError(
      "cannot tell where the config file is (HOME, XDG_CONFIG_HOME or APPDATA is not set, or --allow-env was not granted); give it with --config FILE",
    );
  }
  return found;
}

/** A job's settings, with backup's defaults where the job says nothing. */
export function jobSettings(job: Job, keepLogs: number): BackupSettings {
  return {
    source: job.source,
    destinations: job.destinations.map((destination) => destination.path),
    workers: job.destinations.map((destination) => destination.workers ?? job.workers ?? "auto"),
    retries: job.retries ?? DEFAULT_RETRIES,
    retryPauseMs: RETRY_PAUSE_MS,
    verify: job.verify ?? true,
    order: job.order ?? "small-first",
    priorities: job.priorities,
    limits: job.destinations.map((destination) => destination.limit ?? job.bwlimit),
    keepLogs,
    links: job.links ?? false,
    filter: { exclude: job.exclude, include: job.include, only: job.only },
    hash: job.hash,
  };
}

/** Builds the command; `setExitCode` receives the run's exit code. */
export function runCommand(setExitCode: (code: number) => void) {
  return logOptions(outputOptions(new Command("run")))
    .summary("run a named job from the config file")
    .description(
      "Run a named job of the config file (fanout.toml): its source, destinations and options, as `fanout backup` would.",
    )
    .argument("<job>", "name of a job in the config file")
    .option("--config <file>", "the config file (default: the platform's, see README)")
    .action(async (name, options) => {
      const config = await loadConfig(configFile(options.config), homeFolder());
      const job = findJob(config, name);
      setExitCode(
        await runBackup(jobSettings(job, options.keepLogs), {
          output: options,
          log: options.log ?? null,
          ping: job.ping,
        }),
      );
    });
}

/**
 * `fanout schedule JOB --at HH:MM [--every day|hour|week]`: prints what to install so that
 * cron (Linux, macOS) or Task Scheduler (Windows) runs a named job. It installs nothing: the
 * user sees the line and puts it in place.
 */
import { path } from "../deps.ts";
import { Command, Option } from "./deps.ts";
import { findJob, loadConfig } from "../config/jobs.ts";
import { UsageError } from "../errors.ts";
import { envVar } from "../permissions.ts";
import { writeStdout } from "../ui/output.ts";
import { configFile, homeFolder } from "./run.ts";
import {
  defaultLogFile,
  EVERY,
  fanoutInvocation,
  parseTime,
  type Platform,
  PLATFORMS,
  scheduleText,
} from "./schedule_text.ts";

/** This system as `--platform` names it: anything not macOS or Windows schedules with cron. */
function thisPlatform(): Platform {
  const os = Deno.build.os;
  return os === "darwin" || os === "windows" ? os : "linux";
}

/**
 * A `deno run` command line gets `--allow-net=HOST` for the host of the job's ping, and
 * nothing wider; a compiled executable has the network already (scripts/compile.ts).
 */
function withPingPermission(program: string[], ping: string | null): string[] {
  if (ping === null || program[1] !== "run") return program;
  const module = program.length - 1;
  return [...program.slice(0, module), `--allow-net=${new URL(ping).host}`, program[module]];
}

/** Builds the command. */
export function scheduleCommand() {
  return new Command("schedule")
    .summary("print the cron line or schtasks command that runs a job regularly")
    .description(
      "Print what to install so that a named job runs regularly: a crontab line on Linux and macOS, a schtasks command on Windows. Nothing is installed.",
    )
    .argument("<job>", "name of a job in the config file")
    .requiredOption(
      "--at <HH:MM>",
      "time of day (with --every hour, only the minute counts)",
      parseTime,
    )
    .addOption(
      new Option("--every <period>", "how often").choices(EVERY).default("day" as const),
    )
    .option("--config <file>", "the config file (default: the platform's, see README)")
    .option("--log <file>", "the file the scheduled runs append to (default: the platform's)")
    .addOption(
      new Option("--platform <os>", "print for this system instead of the one running")
        .choices(PLATFORMS),
    )
    .action(async (name, options) => {
      const given = options.config === undefined ? null : path.resolve(options.config);
      // The job must exist now, so that a typo is not found by cron at 2 a.m.
      const job = findJob(await loadConfig(configFile(options.config), homeFolder()), name);
      const platform = options.platform ?? thisPlatform();
      const logFile = options.log === undefined
        ? defaultLogFile(platform, name, envVar)
        : path.resolve(options.log);
      if (logFile === null) {
        throw new UsageError(
          "cannot tell where the scheduled runs should log (HOME, XDG_STATE_HOME or LOCALAPPDATA is not set); give it with --log FILE",
        );
      }
      writeStdout(
        scheduleText({
          job: name,
          at: options.at,
          every: options.every,
          platform,
          program: withPingPermission(fanoutInvocation(Deno.execPath(), Deno.mainModule), job.ping),
          configFile: given,
          logFile,
        }),
      );
    });
}

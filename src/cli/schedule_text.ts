/**
 * `fanout schedule`: the crontab line (Linux, macOS) or schtasks command (Windows) that runs
 * a named job regularly, as text to print. Pure: the command gathers the paths and the
 * platform, this only writes and quotes.
 */
import { path } from "../deps.ts";
import { InvalidArgumentError } from "./deps.ts";
import { UsageError } from "../errors.ts";
import { RUN_FLAGS } from "../permissions.ts";

/** How often a scheduled job runs (`--every`). */
export const EVERY = ["hour", "day", "week"] as const;
export type Every = typeof EVERY[number];

/** The systems `fanout schedule` writes for (`--platform`). */
export const PLATFORMS = ["linux", "darwin", "windows"] as const;
export type Platform = typeof PLATFORMS[number];

/** schtasks refuses a /TR command longer than this ("cannot be more than 261 character(s)"). */
export const SCHTASKS_TR_LIMIT = 261;

/**
 * Reads `--at HH:MM`, a time of day from 00:00 to 23:59; the hour may have one digit.
 *
 * @example
 * parseTime("2:30"); // { hour: 2, minute: 30 }
 */
export function parseTime(value: string): { hour: number; minute: number } {
  const match = /^(\d{1,2}):(\d\d)$/.exec(value.trim());
  const hour = match ? Number(match[1]) : NaN;
  const minute = match ? Number(match[2]) : NaN;
  if (!(hour <= 23 && minute <= 59)) {
    throw new InvalidArgumentError(
      "Expected a time of day as HH:MM, from 00:00 to 23:59, e.g. 02:30.",
    );
  }
  return { hour, minute };
}

/** What to schedule, with every path already absolute. */
export interface ScheduleRequest {
  job: string;
  at: { hour: number; minute: number };
  every: Every;
  platform: Platform;
  /** The command that runs fanout, absolute: ["/usr/local/bin/fanout"] for an executable, or [deno, "run", ...permission flags, "/abs/path/main.ts" or a URL]. */
  program: string[];
  /** --config as given to schedule, made absolute; null for the default path. */
  configFile: string | null;
  /** Absolute log file the scheduled run appends to. */
  logFile: string;
}

/**
 * The text to print, ending in a newline: a comment saying what it does and how to install
 * it, then the crontab line, or the cmd.exe lines that create the folder of the log and the
 * task. Either is self-sufficient: the crontab line makes the log's folder itself.
 *
 * @example
 * scheduleText({
 *   job: "photos", at: { hour: 2, minute: 30 }, every: "day", platform: "linux",
 *   program: ["/usr/local/bin/fanout"], configFile: null, logFile: "/home/me/photos.log",
 * });
 * // "# fanout: runs job \"photos\" every day at 02:30 …\n30 2 * * * mkdir -p /home/me && …\n"
 */
export function scheduleText(request: ScheduleRequest): string {
  const words = [...request.program, request.job, request.logFile, request.configFile ?? ""];
  if (words.some((word) => /[\r\n]/.test(word))) {
    throw new UsageError("cannot schedule a job whose name, paths or program hold a line break");
  }
  return request.platform === "windows" ? schtasksText(request) : crontabText(request);
}

function clock({ hour, minute }: { hour: number; minute: number }): string {
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

function when(every: Every, at: { hour: number; minute: number }): string {
  if (every === "hour") return `every hour at minute ${String(at.minute).padStart(2, "0")}`;
  return `${every === "week" ? "every Sunday" : "every day"} at ${clock(at)}`;
}

/**
 * A word for sh, single-quoted unless it is plainly safe. A backslash is written outside the
 * quotes (`'\\'`): cron reads `\%` as a literal `%`, so a backslash left just before a `%`
 * would swallow that escape.
 */
function shQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/['\\]/g, (char) => char === "'" ? `'\\''` : `'\\\\'`)}'`;
}

function crontabText(request: ScheduleRequest): string {
  const { at, every, logFile } = request;
  const fields = every === "hour"
    ? `${at.minute} * * * *`
    : `${at.minute} ${at.hour} * * ${every === "week" ? "0" : "*"}`;
  const config = request.configFile === null ? [] : ["--config", request.configFile];
  const command = [
    "mkdir -p",
    shQuote(path.posix.dirname(logFile)),
    "&&",
    ...[...request.program, "run", request.job, ...config, "--quiet"].map(shQuote),
    ">>",
    shQuote(logFile),
    "2>&1",
  ].join(" ");
  const hourNote = every === "hour" ? " (the hour of --at is not used)" : "";
  const lines = [
    `# fanout: runs job "${request.job}" ${
      when(every, at)
    }${hourNote}, appending its output to ${logFile}. To install, run \`crontab -e\` and add the next line.`,
  ];
  if (request.platform === "darwin") {
    lines.push(
      "# On macOS cron may need Full Disk Access (System Settings > Privacy & Security) to read your folders and disks.",
    );
  }
  // An unescaped % in a crontab command ends it, and what follows becomes its stdin.
  lines.push(`${fields} ${command.replaceAll("%", "\\%")}`);
  return lines.join("\n") + "\n";
}

/** A word for cmd.exe and the program's argument parser, double-quoted when needed or asked. */
function cmdQuote(word: string, always = false): string {
  if (word.includes('"')) {
    throw new UsageError(`cannot schedule for Windows with a " in ${word}`);
  }
  return !always && /^[A-Za-z0-9_./\\:=@+,-]+$/.test(word) ? word : `"${word}"`;
}

/**
 * Escapes with `^` what cmd.exe would act on outside quotes, counting quotes as cmd.exe does
 * (every `"` toggles, `\"` too), so that a pasted line hands its redirections to the
 * program instead of performing them.
 */
function caretOutsideQuotes(text: string): string {
  let quoted = false;
  let escaped = "";
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && "&|<>^".includes(char)) escaped += "^";
    escaped += char;
  }
  return escaped;
}

/**
 * The task runs `cmd /c ""PROGRAM" run JOB … >> "LOG" 2>&1"`: cmd /c strips the outer pair of
 * quotes and keeps the inner ones. In the /TR value each `"` is written `\"`, as schtasks
 * parses its arguments like any C program. When that command is longer than schtasks
 * takes, it is written to a .cmd file beside the log and the task runs the file.
 */
function schtasksText(request: ScheduleRequest): string {
  const { at, every, job, logFile } = request;
  const [executable, ...programArguments] = request.program;
  const logFolder = path.win32.dirname(logFile);
  const config = request.configFile === null
    ? []
    : ["--config", cmdQuote(request.configFile, true)];
  const command = [
    cmdQuote(executable, true),
    ...programArguments.map((word) => cmdQuote(word)),
    "run",
    cmdQuote(job),
    ...config,
    "--quiet",
    ">>",
    cmdQuote(logFile, true),
    "2>&1",
  ].join(" ");
  const inline = `cmd /c "${command}"`;
  const scriptFile = path.win32.join(logFolder, `${job}.cmd`);
  const fits = inline.length <= SCHTASKS_TR_LIMIT;
  const taskRun = fits ? inline : cmdQuote(scriptFile, true);
  const schedule = { hour: "HOURLY", day: "DAILY", week: "WEEKLY /D SUN" }[every];
  const lengthNote = fits
    ? ""
    : ` Its command is ${inline.length} characters, more than the ${SCHTASKS_TR_LIMIT} schtasks /TR takes, so the echo line writes it to ${scriptFile} and the task runs that file.`;
  const lines = [
    `rem fanout: runs job "${job}" ${
      when(every, at)
    }, appending its output to ${logFile}. To install, paste the lines below into cmd.exe (no Administrator needed: the task runs as you, while you are logged on).${lengthNote}`,
    `if not exist "${logFolder}" mkdir "${logFolder}"`,
  ];
  if (!fits) {
    // A .cmd file reads %% as a literal %.
    lines.push(`> "${scriptFile}" echo ${caretOutsideQuotes(`@${command.replaceAll("%", "%%")}`)}`);
  }
  lines.push(
    caretOutsideQuotes(
      `schtasks /Create /TN "fanout ${job}" /SC ${schedule} /ST ${clock(at)} /F /TR "${
        taskRun.replaceAll('"', '\\"')
      }"`,
    ),
  );
  return lines.join("\n") + "\n";
}

/**
 * Where a scheduled job's log goes by default, or null when the variable it needs is unset:
 * Linux `$XDG_STATE_HOME/fanout/JOB.log` (else `~/.local/state/fanout/JOB.log`), macOS
 * `~/Library/Logs/fanout/JOB.log`, Windows `%LOCALAPPDATA%\fanout\logs\JOB.log`.
 *
 * @example
 * defaultLogFile("darwin", "photos", (name) => ({ HOME: "/Users/me" })[name]);
 * // "/Users/me/Library/Logs/fanout/photos.log"
 */
export function defaultLogFile(
  os: Platform,
  job: string,
  env: (name: string) => string | undefined,
): string | null {
  const file = `${job}.log`;
  if (os === "windows") {
    const localAppData = env("LOCALAPPDATA");
    return localAppData ? path.win32.join(localAppData, "fanout", "logs", file) : null;
  }
  const home = env("HOME");
  if (os === "darwin") {
    return home ? path.posix.join(home, "Library", "Logs", "fanout", file) : null;
  }
  // The XDG spec says to ignore a relative XDG_STATE_HOME.
  const stateHome = env("XDG_STATE_HOME");
  if (stateHome && path.posix.isAbsolute(stateHome)) {
    return path.posix.join(stateHome, "fanout", file);
  }
  return home ? path.posix.join(home, ".local", "state", "fanout", file) : null;
}

/**
 * How this fanout was started, as an absolute command: `deno run` with fanout's
 * permissions and its main module, or a compiled executable alone. Pass
 * `Deno.execPath()` and `Deno.mainModule`.
 *
 * @example
 * fanoutInvocation("/usr/bin/deno", "file:///opt/fanout/main.ts");
 * // ["/usr/bin/deno", "run", "--allow-read", …, "/opt/fanout/main.ts"]
 */
export function fanoutInvocation(execPath: string, mainModule: string): string[] {
  // win32's basename splits at both separators, so it reads any platform's path.
  const name = path.win32.basename(execPath).replace(/\.exe$/i, "").toLowerCase();
  if (name !== "deno") return [execPath];
  const main = mainModule.startsWith("file:") ? filePath(mainModule) : mainModule;
  return [execPath, "run", ...RUN_FLAGS, main];
}

/**
 * A file: URL as a path. A drive letter or a server gives a Windows path whatever the
 * platform this runs on, which keeps it pure (node's fileURLToPath follows the host).
 */
function filePath(fileUrl: string): string {
  const url = new URL(fileUrl);
  const pathname = decodeURIComponent(url.pathname);
  if (url.hostname) return `\\\\${url.hostname}${pathname.replaceAll("/", "\\")}`;
  if (/^\/[A-Za-z]:\//.test(pathname)) return pathname.slice(1).replaceAll("/", "\\");
  return pathname;
}

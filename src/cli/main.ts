/**
 * The command line: builds the commands, runs one, and turns every outcome into an exit
 * code. A user error prints one line and never a stack trace.
 */
import { Argument, Command, CommanderError } from "./deps.ts";
import { ExitCode, FanoutError } from "../errors.ts";
import { writeStderr, writeStdout } from "../ui/output.ts";
import { VERSION } from "../version.ts";
import { backupCommand } from "./backup.ts";
import { completionScript, SHELLS } from "./completions.ts";
import { runCommand } from "./run.ts";
import { scheduleCommand } from "./schedule.ts";
import { exitOnSignals } from "./signals.ts";
import { verifyCommand } from "./verify.ts";

const EXIT_CODES = `
Exit codes:
  0    every file is in every destination and verified
  1    the run finished, but something failed (a file, a destination, a mismatch)
  2    usage or configuration error; nothing was written
  130  interrupted (Ctrl-C); 143 stopped by SIGTERM`;

/**
 * Runs fanout with `args` (without the program name) and returns the exit code.
 *
 * @example
 * Deno.exit(await main(["backup", "/card", "/ssd/card"]));
 */
export async function main(args: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const setExitCode = (code: number) => exitCode = code;
  const program = new Command("fanout")
    .description(
      "Back up one folder to several destinations at once; every copy is read back and checked by its hash (SHA-256 by default).",
    )
    .version(VERSION, "-V, --version")
    .configureOutput({
      writeErr: writeStderr,
      // One line, even with commander's "(Did you mean …?)" on a line of its own.
      outputError: (text, write) =>
        write(
          `fanout: ${text.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ")} (see --help)\n`,
        ),
    })
    .addHelpText("after", EXIT_CODES)
    .exitOverride();
  const completions = new Command("completions")
    .summary("print a shell completion script")
    .description(
      "Print a completion script for bash, zsh or fish; its first lines say where to put it.",
    )
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .action((shell) => writeStdout(completionScript(shell, program)));
  for (
    const command of [
      backupCommand(setExitCode),
      verifyCommand(setExitCode),
      runCommand(setExitCode),
      scheduleCommand(),
      completions,
    ]
  ) {
    program.addCommand(command.copyInheritedSettings(program));
  }
  exitOnSignals();
  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof FanoutError) {
      writeStderr(`fanout: ${error.message}\n`);
      return error.exitCode;
    }
    writeStderr(`fanout: internal error (please report it): ${(error as Error).stack ?? error}\n`);
    return ExitCode.failed;
  }
}

/** `fanout verify <destination>` */
import { Command } from "./deps.ts";
import { UsageError } from "../errors.ts";
import { verifyDestination } from "../verify/verify_destination.ts";
import { outputOptions, rendererFor, wholeNumber } from "./options.ts";

/** Builds the command; `setExitCode` receives the check's exit code. */
export function verifyCommand(setExitCode: (code: number) => void) {
  return outputOptions(new Command("verify"))
    .summary("re-read a destination and check it against its records")
    .description(
      "Re-read every file a destination's records list, from disk, and report each missing or changed file. Needs no source; with --repair --source SRC, copies the failed files again from SRC if it still holds what was recorded.",
    )
    .argument("<destination>", "a folder fanout backed up to")
    .option("--workers <n>", "files read at once", wholeNumber(1, 64), 4)
    .option("--repair", "copy the files that fail again from --source, if it still holds them")
    .option("--source <folder>", "the folder the destination was backed up from (for --repair)")
    .action(async (destination, options) => {
      const repairFrom = options.repair ? await repairSource(options.source) : undefined;
      const renderer = rendererFor(options);
      try {
        const settings = { destination, workers: options.workers, repairFrom };
        setExitCode((await verifyDestination(settings, renderer.emit)).exitCode);
      } finally {
        renderer.close();
      }
    });
}

/** The --source of --repair: required, and a folder. */
async function repairSource(source: string | undefined): Promise<string> {
  if (source === undefined) {
    throw new UsageError("--repair needs --source: the folder to copy the failed files from");
  }
  const info = await Deno.stat(source).catch(() => null);
  if (!info?.isDirectory) {
    throw new UsageError(`--source ${source} is not a folder; give the folder that was backed up`);
  }
  return source;
}

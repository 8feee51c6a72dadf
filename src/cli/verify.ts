/** `fanout verify <destination>` */
import { Command } from "../deps.ts";
import { verifyDestination } from "../verify/verify_destination.ts";
import { rendererFor, wholeNumber } from "./options.ts";

/** Builds the command; `setExitCode` receives the check's exit code. */
export function verifyCommand(setExitCode: (code: number) => void) {
  return new Command("verify")
    .summary("re-read a destination and check it against its records")
    .description(
      "Re-read every file a destination's records list, from disk, and report each missing or changed file. Needs no source.",
    )
    .argument("<destination>", "a folder fanout backed up to")
    .option("--workers <n>", "files read at once", wholeNumber(1, 64), 4)
    .option("--json", "write NDJSON events to stdout instead of text to stderr")
    .option("-q, --quiet", "print only errors and the summary")
    .option("-v, --verbose", "print a line for every file")
    .option(
      "--progress-interval <seconds>",
      "seconds between progress lines when not on a terminal",
      wholeNumber(0, 86_400),
      10,
    )
    .action(async (destination, options) => {
      const renderer = rendererFor(options);
      try {
        const settings = { destination, workers: options.workers };
        setExitCode((await verifyDestination(settings, renderer.emit)).exitCode);
      } finally {
        renderer.close();
      }
    });
}

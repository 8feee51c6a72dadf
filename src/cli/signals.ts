/**
 * Ctrl-C and SIGTERM end the run at once with 130 or 143. Every copy in flight is still in
 * its hidden temp file, so nothing partial carries a final name; a later run of the same
 * files reuses those temp names.
 */
import { ExitCode } from "../errors.ts";
import { writeStderr } from "../ui/output.ts";

const cleanups: (() => void)[] = [];

/** Runs `cleanup` (give the terminal back, say) if a signal ends the process. */
export function beforeExit(cleanup: () => void): void {
  cleanups.push(cleanup);
}

/** Installs the handlers for the rest of the process. */
export function exitOnSignals(): void {
  const signals: [Deno.Signal, number][] = [["SIGINT", ExitCode.interrupted]];
  // Windows delivers only SIGINT and SIGBREAK to Deno.
  if (Deno.build.os !== "windows") signals.push(["SIGTERM", ExitCode.terminated]);
  for (const [signal, code] of signals) {
    Deno.addSignalListener(signal, () => {
      for (const cleanup of cleanups) cleanup();
      writeStderr(
        `\nfanout: stopped by ${signal}; files not yet complete were left only as hidden .fanout-*.tmp files\n`,
      );
      Deno.exit(code);
    });
  }
}

/**
 * Ctrl-C and SIGTERM. A command that can stop cleanly (backup) registers how: the first
 * signal asks it to stop (files in hand are abandoned, their temp files removed, what was
 * completed is recorded) and the process ends with 130 or 143 within 2 seconds at most.
 * A second signal, or a command with nothing to clean up, ends it at once; even then
 * nothing partial carries a final name, only hidden .fanout-*.tmp files that the next run
 * removes.
 */
import { ExitCode } from "../errors.ts";
import { writeStderr } from "../ui/output.ts";

/** How long a clean stop may take before the process ends anyway. */
const STOP_GRACE_MS = 2000;

const cleanups: (() => void)[] = [];
let stopper: ((signal: string, exitCode: number) => void) | null = null;
let stopping = false;

/** Runs `cleanup` (give the terminal back, say) if a signal ends the process. */
export function beforeExit(cleanup: () => void): void {
  cleanups.push(cleanup);
}

/** Lets the first signal stop the running command cleanly through `stop`. */
export function onStopRequest(stop: (signal: string, exitCode: number) => void): void {
  stopper = stop;
}

function exitNow(signal: string, code: number): never {
  for (const cleanup of cleanups) cleanup();
  writeStderr(
    `\nfanout: stopped by ${signal}; files not yet complete were left only as hidden .fanout-*.tmp files\n`,
  );
  Deno.exit(code);
}

/** Installs the handlers for the rest of the process. */
export function exitOnSignals(): void {
  const signals: [Deno.Signal, number][] = [["SIGINT", ExitCode.interrupted]];
  // Windows delivers only SIGINT and SIGBREAK to Deno.
  if (Deno.build.os !== "windows") signals.push(["SIGTERM", ExitCode.terminated]);
  for (const [signal, code] of signals) {
    Deno.addSignalListener(signal, () => {
      if (!stopper || stopping) exitNow(signal, code);
      stopping = true;
      stopper(signal, code);
      const timer = setTimeout(() => exitNow(signal, code), STOP_GRACE_MS);
      Deno.unrefTimer(timer);
    });
  }
}

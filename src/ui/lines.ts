/**
 * The words of fanout's human output, shared by the plain and terminal renderers: one line
 * per event that deserves one, a progress line, and the summary. No ANSI codes here.
 */
import type {
  BackupSummary,
  FileEvent,
  PhaseEvent,
  ProgressEvent,
  RunEvent,
  VerifySummary,
} from "../coordinator/events.ts";
import type { ReadBack } from "../coordinator/messages.ts";
import { formatBytes, formatCount, formatDuration, formatRate } from "../format.ts";
import { displayWidth } from "./width.ts";

export interface LineOptions {
  /** A line per file done, not only per failure. */
  verbose?: boolean;
}

/**
 * The lines an event prints (often none), without line feeds; progress and summary events
 * have their own functions.
 *
 * @example
 * eventLines({ type: "warning", message: "skipped link" }); // ["warning: skipped link"]
 */
export function eventLines(event: RunEvent, options: LineOptions = {}): string[] {
  return rawEventLines(event, options).map(printable);
}

/**
 * A line as it may safely go to a terminal: control characters (a newline or an escape in
 * a file name, say) are shown as escapes instead of acting.
 *
 * @example
 * printable("a\nb"); // "a\\nb"
 */
export function printable(line: string): string {
  // deno-lint-ignore no-control-regex
  return line.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function rawEventLines(event: RunEvent, options: LineOptions): string[] {
  switch (event.type) {
    case "phase":
      return phaseLines(event);
    case "file":
      return fileLines(event, options);
    case "warning":
      return [`warning: ${event.message}`];
    case "error":
      return [`error: ${event.message}`];
    case "workers":
      return options.verbose
        ? [`fanout: ${event.destination}: ${event.workers} workers (${event.reason})`]
        : [];
    default:
      return [];
  }
}

/** An error, or a file that failed or did not verify: what `--quiet` still prints. */
export function isProblem(event: RunEvent): boolean {
  return event.type === "error" ||
    (event.type === "file" && !["verified", "copied", "skipped"].includes(event.status));
}

function phaseLines(event: PhaseEvent): string[] {
  const { phase, state, destination, files, bytes, excluded } = event;
  const amount = files === undefined
    ? ""
    : `${formatCount(files)} files (${formatBytes(bytes ?? 0)})`;
  if (phase === "analyze") {
    if (state === "start") return ["fanout: analyzing the source"];
    const left = excluded ? `; ${formatCount(excluded)} left out by the filters` : "";
    return [`fanout: source holds ${amount}${left}`];
  } else if (phase === "manifest" && state === "end") {
    return [`fanout: ${destination}: ${amount} to copy`];
  } else if (phase === "copy" && state === "end") {
    return [`fanout: ${destination}: copy done`];
  } else if (phase === "verify" && state === "start" && destination !== undefined) {
    return [`fanout: ${destination}: verifying`];
  }
  return [];
}

function fileLines(event: FileEvent, options: LineOptions): string[] {
  if (event.status === "repaired") return [`repaired: ${event.path}`];
  if (event.status === "failed") {
    const attempts = event.attempts ? ` after ${event.attempts} attempt(s)` : "";
    return [`error: ${event.destination}: ${event.path} failed${attempts}: ${event.error}`];
  }
  if (!["verified", "copied", "skipped", "failed"].includes(event.status)) {
    return [`${event.status.toUpperCase()}: ${event.path}: ${event.error}`];
  }
  return options.verbose ? [`${event.status}: ${event.destination}: ${event.path}`] : [];
}

/**
 * One destination's progress in words.
 *
 * @example
 * progressLine(event); // "fanout: /mnt/nas/card: copy 45%, 1.20 GiB of 2.70 GiB, 24.0 MiB/s, 1 min 05 s left"
 */
export function progressLine(progress: ProgressEvent): string {
  return printable(rawProgressLine(progress));
}

function rawProgressLine(progress: ProgressEvent): string {
  const { destination, phase, bytesDone, bytesTotal, bytesPerSecond, etaSeconds } = progress;
  const left = etaSeconds === null ? "time left unknown yet" : `${formatEta(etaSeconds)} left`;
  return `fanout: ${destination}: ${phase} ${percent(bytesDone, bytesTotal)}, ${
    formatBytes(bytesDone)
  } of ${formatBytes(bytesTotal)}, ${formatBytes(bytesPerSecond)}/s, ${left}`;
}

/** Whole percent, 100% for no work at all. */
export function percent(done: number, total: number): string {
  return `${total === 0 ? 100 : Math.floor((done / total) * 100)}%`;
}

/** An ETA in words: "—" while unknown. */
export function formatEta(seconds: number | null): string {
  return seconds === null ? "—" : formatDuration(seconds * 1000);
}

/** The summary's lines. */
export function summaryLines(summary: BackupSummary | VerifySummary): string[] {
  const lines: string[] = [];
  const line = (text: string) => lines.push(text);
  if (summary.command === "backup") backupSummary(summary, line);
  else verifySummary(summary, line);
  return lines.map(printable);
}

function readBackNote(readBack: ReadBack | null): string {
  if (readBack === null) return "not verified";
  return readBack.source === "disk"
    ? "read back from disk"
    : `read back from the page cache, not the disk: ${readBack.reason}`;
}

function backupSummary(summary: BackupSummary, line: (text: string) => void): void {
  const header = [
    "destination",
    "copied",
    "skipped",
    "failed",
    "verified",
    "bytes",
    "speed",
    "time",
    "status",
  ];
  const rows = summary.destinations.map((d) => [
    d.path,
    formatCount(d.copied),
    formatCount(d.skipped),
    formatCount(d.failed),
    formatCount(d.verified),
    formatBytes(d.bytes),
    formatRate(d.bytes, d.elapsedMs),
    formatDuration(d.elapsedMs),
    d.status,
  ]);
  line("");
  line(
    `fanout: ${formatCount(summary.files)} files (${
      formatBytes(summary.bytes)
    }) to ${summary.destinations.length} destination(s) in ${formatDuration(summary.elapsedMs)}`,
  );
  for (const row of table([header, ...rows])) line(`  ${row}`);
  const copied = summary.destinations.reduce((sum, d) => sum + d.bytes, 0);
  if (summary.destinations.length > 1 && copied > 0) {
    const shared = summary.destinations.reduce((sum, d) => sum + d.sharedBytes, 0);
    line(
      `  ${formatBytes(copied - shared)} read from the source for ${
        formatBytes(copied)
      } of copies (${formatBytes(shared)} taken from one destination's read for another)`,
    );
  }
  for (const d of summary.destinations) {
    if (d.error) line(`  ${d.path}: failed: ${d.error}`);
    else if (d.copied > 0) line(`  ${d.path}: ${readBackNote(d.readBack)}`);
  }
  if (summary.failures.length > 0) {
    line("failed files:");
    for (const f of summary.failures) line(`  ${f.destination}: ${f.path}: ${f.error}`);
  }
  line(`fanout: ${outcome(summary)}`);
}

function outcome(summary: BackupSummary): string {
  if (summary.stoppedBy) {
    return `stopped by ${summary.stoppedBy}; what was completed is recorded, and the next run goes on from there`;
  }
  if (summary.exitCode !== 0) return "finished with failures";
  const destinations = summary.destinations;
  if (destinations.every((d) => d.copied === 0)) return "done, nothing to copy";
  if (destinations.some((d) => d.copied > 0 && d.readBack === null)) {
    return "done, copies not verified (--no-verify)";
  }
  if (destinations.some((d) => d.readBack?.source === "cache")) {
    return "done, copies checked against the page cache only (see above)";
  }
  return "done, every copy read back from disk and verified";
}

function verifySummary(summary: VerifySummary, line: (text: string) => void): void {
  const {
    destination,
    files,
    verified,
    missing,
    mismatched,
    unreadable,
    unsafe,
    bytes,
    elapsedMs,
  } = summary;
  line(
    `fanout: ${destination}: ${formatCount(verified)} of ${formatCount(files)} files verified (${
      formatBytes(bytes)
    }, ${readBackNote(summary.readBack)}) in ${formatDuration(elapsedMs)}`,
  );
  if (summary.repaired > 0) {
    line(`fanout: ${formatCount(summary.repaired)} repaired from the source and read back`);
  }
  if (summary.exitCode !== 0) {
    line(
      `fanout: ${formatCount(missing)} missing, ${formatCount(mismatched)} mismatched, ${
        formatCount(unreadable)
      } unreadable, ${formatCount(unsafe)} through a symlink`,
    );
  }
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
function table(cells: string[][]): string[] {
  const rows = cells.map((row) => row.map(printable));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => displayWidth(row[c]))));
  return rows.map((row) =>
    row.map((cell, c) => {
      const pad = " ".repeat(widths[c] - displayWidth(cell));
      return c === 0 || c === row.length - 1 ? cell + pad : pad + cell;
    }).join("  ").trimEnd()
  );
}

/**
 * Plain text on stderr, for a pipe, cron or a terminal until the live display exists: a few
 * lines as phases pass, every warning and error, and a per-destination summary at the end.
 * No ANSI codes.
 */
import type {
  BackupSummary,
  EventSink,
  FileEvent,
  PhaseEvent,
  RunEvent,
  VerifySummary,
} from "../coordinator/events.ts";
import type { ReadBack } from "../coordinator/messages.ts";
import { formatBytes, formatCount, formatDuration, formatRate } from "./format.ts";
import { writeStderr } from "./output.ts";

/**
 * @example
 * const emit = plainRenderer();
 * emit({ type: "phase", phase: "analyze", state: "start" }); // "fanout: analyzing the source"
 */
export function plainRenderer(write: (text: string) => void = writeStderr): EventSink {
  const line = (text: string) => write(text + "\n");
  return (event: RunEvent) => {
    switch (event.type) {
      case "phase":
        phaseLine(event, line);
        break;
      case "file":
        fileLine(event, line);
        break;
      case "warning":
        line(`warning: ${event.message}`);
        break;
      case "error":
        line(`error: ${event.message}`);
        break;
      case "summary":
        if (event.command === "backup") backupSummary(event, line);
        else verifySummary(event, line);
        break;
    }
  };
}

function phaseLine(event: PhaseEvent, line: (text: string) => void): void {
  const { phase, state, destination, files, bytes } = event;
  const amount = files === undefined
    ? ""
    : `${formatCount(files)} files (${formatBytes(bytes ?? 0)})`;
  if (phase === "analyze") {
    line(state === "start" ? "fanout: analyzing the source" : `fanout: source holds ${amount}`);
  } else if (phase === "manifest" && state === "end") {
    line(`fanout: ${destination}: ${amount} to copy`);
  } else if (phase === "copy" && state === "end") {
    line(`fanout: ${destination}: copy done`);
  } else if (phase === "verify" && state === "start" && destination !== undefined) {
    line(`fanout: ${destination}: verifying`);
  }
}

function fileLine(event: FileEvent, line: (text: string) => void): void {
  if (event.status === "failed") {
    const attempts = event.attempts ? ` after ${event.attempts} attempt(s)` : "";
    line(`error: ${event.destination}: ${event.path} failed${attempts}: ${event.error}`);
  } else if (
    event.status === "missing" || event.status === "mismatch" || event.status === "unreadable"
  ) {
    line(`${event.status.toUpperCase()}: ${event.path}: ${event.error}`);
  }
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
  const { destination, files, verified, missing, mismatched, unreadable, bytes, elapsedMs } =
    summary;
  line(
    `fanout: ${destination}: ${formatCount(verified)} of ${formatCount(files)} files verified (${
      formatBytes(bytes)
    }, ${readBackNote(summary.readBack)}) in ${formatDuration(elapsedMs)}`,
  );
  if (summary.exitCode !== 0) {
    line(
      `fanout: ${formatCount(missing)} missing, ${formatCount(mismatched)} mismatched, ${
        formatCount(unreadable)
      } unreadable`,
    );
  }
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row.map((cell, c) =>
      c === 0 || c === row.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    )
      .join("  ").trimEnd()
  );
}

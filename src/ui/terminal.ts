/**
 * The live display for a person at a terminal (stderr is a TTY): a header with the phase
 * pills Analyze · Manifest · Copy · Flush · Verify and a status line, then one line per
 * destination with its bar, percent, bytes, speed, ETA, phase and slots, and a mark on the
 * fastest. Redrawn in place at most 4 times a second, never wider than the terminal;
 * warnings and errors print above the bars; the summary follows at the end.
 */
import type { EventSink, ProgressEvent, RunEvent } from "../coordinator/events.ts";
import type { Phase } from "../coordinator/messages.ts";
import { eventLines, type LineOptions, percent, printable, summaryLines } from "./lines.ts";
import { writeStderr } from "./output.ts";
import { displayWidth, fitEnd, fitStart } from "./width.ts";

/** A renderer that holds the screen and must give it back. */
export interface Renderer {
  emit: EventSink;
  /** Final redraw, cursor shown again. Safe to call twice. */
  close(): void;
}

export interface TerminalOptions extends LineOptions {
  /** Columns of the terminal, asked before every redraw (it may be resized). */
  columns?: () => number;
  color?: boolean;
  /** Least time between two redraws. */
  intervalMs?: number;
}

const PHASES: Phase[] = ["analyze", "manifest", "copy", "flush", "verify"];
const PILL: Record<Phase, string> = {
  analyze: "Analyze",
  manifest: "Manifest",
  copy: "Copy",
  flush: "Flush",
  verify: "Verify",
};
const ING: Record<Phase, string> = {
  analyze: "analyzing",
  manifest: "planning",
  copy: "copying",
  flush: "flushing",
  verify: "verifying",
};

const ESC = "\x1b[";
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

/** What the display knows of one destination. */
export interface DestinationView {
  name: string;
  phase: Phase | "waiting";
  progress: ProgressEvent | null;
}

/** Everything one frame shows. */
export interface DisplayState {
  analyze: "waiting" | "running" | "done";
  destinations: DestinationView[];
}

/** The terminal's width, 80 when it cannot be asked. */
export function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/**
 * @example
 * const renderer = terminalRenderer();
 * renderer.emit(event); // …
 * renderer.close();
 */
export function terminalRenderer(
  write: (text: string) => void = writeStderr,
  options: TerminalOptions = {},
): Renderer {
  const { columns = terminalColumns, color = !Deno.noColor, intervalMs = 250 } = options;
  const state: DisplayState = { analyze: "waiting", destinations: [] };
  let drawn = 0;
  let dirty = false;
  let closed = false;

  const frame = () => renderFrame(state, columns() - 1, color);
  const erase = () => (drawn > 1 ? `\r${ESC}${drawn - 1}A` : "\r") + `${ESC}J`;

  const draw = () => {
    if (closed || state.destinations.length === 0) return;
    const lines = frame();
    write((drawn === 0 ? HIDE_CURSOR : erase()) + lines.join("\n"));
    drawn = lines.length;
    dirty = false;
  };

  /** Prints lines above the bars, then puts the bars back. */
  const printAbove = (lines: string[]) => {
    if (lines.length === 0) return;
    const text = lines.map((line) => line + "\n").join("");
    if (closed || drawn === 0) return write(text);
    const bars = frame();
    write(erase() + text + bars.join("\n"));
    drawn = bars.length;
  };

  const timer = setInterval(() => dirty && draw(), intervalMs);

  const close = () => {
    if (closed) return;
    clearInterval(timer);
    draw();
    closed = true;
    write((drawn > 0 ? "\n" : "") + SHOW_CURSOR);
  };

  const view = (name: string): DestinationView => {
    let found = state.destinations.find((d) => d.name === name);
    if (!found) {
      found = { name, phase: "waiting", progress: null };
      state.destinations.push(found);
    }
    return found;
  };

  const emit = (event: RunEvent) => {
    switch (event.type) {
      case "phase":
        if (event.destination === undefined) {
          state.analyze = event.state === "start" ? "running" : "done";
          if (event.state === "end") printAbove(eventLines(event, options));
        } else if (event.state === "start") {
          view(event.destination).phase = event.phase;
        }
        dirty = true;
        return;
      case "progress":
        view(event.destination).progress = event;
        dirty = true;
        return;
      case "summary":
        close();
        write(summaryLines(event).map((line) => line + "\n").join(""));
        return;
      default:
        printAbove(eventLines(event, options));
    }
  };

  return { emit, close };
}

/**
 * One frame: the header, then a line per destination, each at most `width` columns.
 *
 * @example
 * renderFrame(state, 79, false); // ["Analyze ✓ · [Copy] · …", "»ssd/card ███░░ 62% …", …]
 */
export function renderFrame(state: DisplayState, width: number, color: boolean): string[] {
  const paint = (code: string, text: string) => color ? `${ESC}${code}m${text}${ESC}0m` : text;
  width = Math.max(20, width);
  return [
    header(state, width, color, paint),
    ...destinationLines(state.destinations, width, paint),
  ];
}

type Paint = (code: string, text: string) => string;

function isFinished(view: DestinationView): boolean {
  return view.progress !== null && view.progress.state !== "running";
}

function header(state: DisplayState, width: number, color: boolean, paint: Paint): string {
  const views = state.destinations;
  const pills = PHASES.map((phase) => {
    const active = phase === "analyze"
      ? state.analyze === "running"
      : views.some((v) => !isFinished(v) && v.phase === phase);
    const past = phase === "analyze" ? state.analyze === "done" : views.length > 0 &&
      views.every((v) => isFinished(v) || PHASES.indexOf(v.phase as Phase) > PHASES.indexOf(phase));
    // Coloured or not, a pill takes the same width.
    if (active) return color ? paint("1;7", ` ${PILL[phase]} `) : `[${PILL[phase]}]`;
    if (past) return paint("2", `${PILL[phase]} ✓`);
    return PILL[phase];
  }).join(" · ");
  const counts = new Map<string, number>();
  for (const view of views) {
    const state = view.progress?.state;
    const word = state === "ok"
      ? "done"
      : state === "failed" || state === "stopped"
      ? state
      : view.phase === "waiting"
      ? "waiting"
      : ING[view.phase];
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const status = [...counts].map(([word, n]) => `${n} ${word}`).join(", ");
  const full = status ? `${pills}   ${status}` : pills;
  return fit(visibleWidth(full) <= width ? full : pills, width);
}

/** Field order on a line, and the order in which narrow terminals drop them. */
const FIELDS = ["percent", "amount", "speed", "eta", "state", "slots"] as const;
const DROP_ORDER = [1, 2, 5, 3];
const RIGHT_ALIGNED = new Set([0, 1, 2]);
const MIN_BAR = 8;

function destinationLines(views: DestinationView[], width: number, paint: Paint): string[] {
  let fastest: DestinationView | null = null;
  for (const view of views) {
    const rate = view.progress?.bytesPerSecond ?? 0;
    if (!isFinished(view) && rate > (fastest?.progress?.bytesPerSecond ?? 0)) fastest = view;
  }
  const cells = views.map((view) => fieldsOf(view, paint));
  const columns = FIELDS.map((_, c) => Math.max(0, ...cells.map((row) => visibleWidth(row[c]))));
  const nameWidth = Math.min(
    Math.max(8, ...views.map((v) => displayWidth(v.name))),
    Math.max(8, Math.floor(width / 5)),
    24,
  );
  const shown = FIELDS.map((_, c) => columns[c] > 0);
  const restWidth = () => columns.reduce((sum, w, c) => sum + (shown[c] ? w + 1 : 0), 0);
  const barWidth = () => width - 1 - nameWidth - 1 - 1 - restWidth();
  for (const drop of DROP_ORDER) {
    if (barWidth() >= MIN_BAR) break;
    shown[drop] = false;
  }
  const bar = Math.max(3, barWidth());
  return views.map((view, i) => {
    const rest = cells[i].map((cell, c) => {
      if (!shown[c]) return null;
      const pad = " ".repeat(columns[c] - visibleWidth(cell));
      return RIGHT_ALIGNED.has(c) ? pad + cell : cell + pad;
    }).filter((cell) => cell !== null).join(" ");
    const mark = view === fastest ? paint("1;32", "»") : " ";
    const name = fitEnd(printable(view.name), nameWidth);
    return fit(`${mark}${name} ${barOf(view, bar, paint)} ${rest}`, width);
  });
}

function fieldsOf(view: DestinationView, paint: Paint): string[] {
  const progress = view.progress;
  if (!progress) return ["", "", "", "", view.phase, ""];
  const { bytesDone, bytesTotal, bytesPerSecond, etaSeconds, workers, state } = progress;
  const finished = state !== "running";
  return [
    percent(bytesDone, bytesTotal),
    amount(bytesDone, bytesTotal),
    speed(bytesPerSecond),
    `ETA ${finished ? "0:00" : clock(etaSeconds)}`,
    state === "ok"
      ? paint("32", "done ✓")
      : state === "failed"
      ? paint("31", "failed ✗")
      : state === "stopped"
      ? paint("33", "stopped")
      : view.phase,
    `×${workers}`,
  ];
}

function barOf(view: DestinationView, width: number, paint: Paint): string {
  const progress = view.progress;
  const total = progress?.bytesTotal ?? 0;
  const done = progress?.bytesDone ?? 0;
  const filled = total === 0
    ? (progress && isFinished(view) ? width : 0)
    : Math.round((done / total) * width);
  return paint(progress?.state === "failed" ? "31" : "36", "█".repeat(filled)) +
    paint("2", "░".repeat(width - filled));
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** The binary unit that suits `bytes`, as [divisor, name]. */
function unitOf(bytes: number): [number, string] {
  let unit = 0;
  while (bytes >= 1024 ** (unit + 1) && unit < UNITS.length - 1) unit++;
  return [1024 ** unit, UNITS[unit]];
}

/** A number in at most 4 characters: "900", "12.3", "3.5". */
function short(value: number): string {
  return value >= 99.95 ? value.toFixed(0) : value.toFixed(1);
}

/** "1.5/2.0 GiB": both in the unit of the total. */
function amount(done: number, total: number): string {
  const [divisor, unit] = unitOf(total);
  return `${short(done / divisor)}/${short(total / divisor)} ${unit}`;
}

/** "310 MiB/s". */
function speed(bytesPerSecond: number): string {
  const [divisor, unit] = unitOf(bytesPerSecond);
  return `${short(bytesPerSecond / divisor)} ${unit}/s`;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Width on screen, without ANSI codes. */
function visibleWidth(text: string): number {
  return displayWidth(text.replace(ANSI, ""));
}

/** `line` if it fits in `width` columns, else its start without colours. */
function fit(line: string, width: number): string {
  return visibleWidth(line) <= width ? line : fitStart(line.replace(ANSI, ""), width);
}

/** "m:ss" or "h:mm:ss", or "—" while unknown. */
export function clock(seconds: number | null): string {
  if (seconds === null) return "—";
  const s = Math.round(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

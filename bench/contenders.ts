/**
 * The contenders the benchmark runs, each as the commands a user would type. With several
 * destinations, tools that copy to one place at a time copy to each destination in turn,
 * then check each in turn; fanout gets all destinations in one command.
 */
import { RUN_FLAGS } from "../src/permissions.ts";
import type { Step } from "./measure.ts";

/** Where one run reads and writes. */
export interface RunPaths {
  source: string;
  destinations: string[];
  /** Checksum file of the source (GNU format, paths relative to the source root). */
  checksums: string;
  /** fanout's main.ts. */
  main: string;
}

export interface Contender {
  /** Name for `--only` and the table. */
  id: string;
  /** The commands, shortly, for the table. */
  label: string;
  verified: boolean;
  /** Programs that must be on PATH. */
  tools: string[];
  /** Drops the page cache between its commands (needs root and a writable /proc). */
  dropsCaches?: boolean;
  steps(paths: RunPaths): Step[];
}

const cp = (p: RunPaths): Step[] =>
  p.destinations.map((d) => ({ program: "cp", args: ["-r", p.source, d] }));

const rsync = (p: RunPaths): Step[] =>
  p.destinations.map((d) => ({ program: "rsync", args: ["-a", `${p.source}/`, `${d}/`] }));

/** Writes every dirty page to disk, then empties the page cache: the next reads are disk reads. */
const dropCachesStep: Step = {
  program: "sh",
  args: ["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"],
};

const sha256sumCheck = (p: RunPaths): Step[] =>
  p.destinations.map((d) => ({ program: "sha256sum", args: ["-c", p.checksums], cwd: d }));

/** fanout backing up to every destination in one command, with `--json` and `extra`. */
export const fanout = (
  p: Pick<RunPaths, "source" | "destinations" | "main">,
  extra: string[],
): Step[] => [{
  program: Deno.execPath(),
  args: [
    "run",
    ...RUN_FLAGS,
    p.main,
    "backup",
    p.source,
    ...p.destinations,
    ...extra,
    "--json",
  ],
  captureStdout: true,
}];

/** The verified baseline every ratio is against. */
export const BASELINE = "cp-sha256sum";

export const CONTENDERS: readonly Contender[] = [
  { id: "cp", label: "`cp -r`", verified: false, tools: ["cp"], steps: cp },
  {
    id: BASELINE,
    label: "`cp -r` + `sha256sum -c`",
    verified: true,
    tools: ["cp", "sha256sum"],
    steps: (p) => [...cp(p), ...sha256sumCheck(p)],
  },
  {
    // The same proof fanout gives: each copy read back from the disk, not the page cache.
    id: "cp-sha256sum-disk",
    label: "`cp -r` + drop the page cache + `sha256sum -c`",
    verified: true,
    tools: ["cp", "sha256sum"],
    dropsCaches: true,
    steps: (p) => [...cp(p), dropCachesStep, ...sha256sumCheck(p)],
  },
  { id: "rsync", label: "`rsync -a`", verified: false, tools: ["rsync"], steps: rsync },
  {
    id: "rsync-sha256sum",
    label: "`rsync -a` + `sha256sum -c`",
    verified: true,
    tools: ["rsync", "sha256sum"],
    steps: (p) => [...rsync(p), ...sha256sumCheck(p)],
  },
  {
    id: "rclone",
    label: "`rclone copy --transfers 4` + `rclone check`",
    verified: true,
    tools: ["rclone"],
    steps: (p) => [
      ...p.destinations.map((d) => ({
        program: "rclone",
        args: ["copy", "--transfers", "4", p.source, d],
      })),
      ...p.destinations.map((d) => ({ program: "rclone", args: ["check", p.source, d] })),
    ],
  },
  {
    id: "fanout",
    label: "`fanout backup`",
    verified: true,
    tools: [],
    steps: (p) => fanout(p, []),
  },
  {
    id: "fanout-no-verify",
    label: "`fanout backup --no-verify`",
    verified: false,
    tools: [],
    steps: (p) => fanout(p, ["--no-verify"]),
  },
  {
    id: "fanout-xxh128",
    label: "`fanout backup --hash xxh128`",
    verified: true,
    tools: [],
    steps: (p) => fanout(p, ["--hash", "xxh128"]),
  },
  {
    id: "fanout-blake3",
    label: "`fanout backup --hash blake3`",
    verified: true,
    tools: [],
    steps: (p) => fanout(p, ["--hash", "blake3"]),
  },
];

/** What fanout's `--json` summary says about each destination. */
export interface FanoutDestination {
  elapsedMs: number;
  readBack: string;
  status: string;
  /** Bytes copied, and of those the bytes taken from another destination's read. */
  bytes: number;
  sharedBytes: number;
}

/** Reads the `summary` event, the last line of fanout's `--json` output. */
export function fanoutSummary(stdout: string): FanoutDestination[] {
  const summary = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
  if (summary.type !== "summary") throw new Error("fanout printed no summary event");
  return summary.destinations.map((
    d: Omit<FanoutDestination, "readBack"> & { readBack: { source: string } | null },
  ) => ({ ...d, readBack: d.readBack?.source ?? "none" }));
}

/**
 * The `independence` suite of `deno task bench` (issue #3, item 5): does a slow destination
 * cost the fast one time?
 *
 * On the camera set (bench/data.ts), fanout backs up to a folder `fast` alone, then to `fast`
 * beside a sibling `slow` limited with `--limit 2=RATE`. RATE is `--slow-fraction` of fast's
 * own throughput in the session's first run alone (source bytes ÷ its `elapsedMs`). The
 * baseline, bench/sequential_copy.ts, makes the same two runs as a sequential per-file copy,
 * its slow copy throttled to the same RATE. Each round runs fanout alone, fanout beside slow,
 * the baseline alone, the baseline beside slow; the page cache is dropped before every run
 * when possible, and the destinations are removed after it. The report is a Markdown table
 * on stdout: fast's median elapsed time alone and beside slow, their ratio (issue #3's target
 * for fanout: ≤ 1.05) and slow's median elapsed time. Nothing here asserts a speed.
 */
import { path } from "../src/deps.ts";
import { REPO, writeRandomFile } from "../tests/helpers.ts";
import { fanout, fanoutSummary } from "./contenders.ts";
import { type DataSet, ensureDataSet } from "./data.ts";
import { cpuModel, dropCaches, median, runStep, type Step } from "./measure.ts";

/** Slow's limit as a fraction of fast's own throughput unless `--slow-fraction` says otherwise. */
export const DEFAULT_SLOW_FRACTION = 0.25;

export interface IndependenceOptions {
  scale: number;
  runs: number;
  slowFraction: number;
  /** Folder for the data set and the runs. */
  workDir: string;
  /** The command line that reproduces this run, for the report. */
  command: string;
}

type Design = "fanout" | "sequential";

/** One design, backing up to fast alone or to fast beside slow. */
interface Case {
  design: Design;
  beside: boolean;
  runs: Elapsed[];
  failure: string | null;
}

/** One run: elapsed milliseconds from the start of the run to the end of each verification. */
interface Elapsed {
  fastMs: number;
  slowMs: number | null;
  /** Where each destination's read-back came from: "disk" or "cache". */
  readBack: string[];
}

/** How RATE was found: fast's first run alone. */
interface Calibration {
  bytes: number;
  fastMs: number;
  rate: number;
}

const MAIN = path.join(REPO, "main.ts");
const SEQUENTIAL = path.join(REPO, "bench", "sequential_copy.ts");
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-ffi", "--allow-sys"];
const MiB = 1024 * 1024;

/** The command of one run, writing into `fast` (and `slow`) under `runDir`. */
function stepFor(item: Case, source: string, runDir: string, rate: number): Step {
  const fast = path.join(runDir, "fast");
  const slow = path.join(runDir, "slow");
  if (item.design === "fanout") {
    const destinations = item.beside ? [fast, slow] : [fast];
    return fanout(
      { source, destinations, main: MAIN },
      item.beside ? ["--limit", `2=${rate}`] : [],
    )[0];
  }
  return {
    program: Deno.execPath(),
    args: [
      "run",
      ...PERMISSIONS,
      SEQUENTIAL,
      source,
      fast,
      ...item.beside ? [slow, "--rate", String(rate)] : [],
    ],
    captureStdout: true,
  };
}

/** Runs one case into fresh destinations under `runDir`, then removes them. */
async function runOnce(item: Case, source: string, runDir: string, rate: number): Promise<Elapsed> {
  await Deno.mkdir(runDir, { recursive: true });
  try {
    const step = stepFor(item, source, runDir, rate);
    const result = await runStep(step, false);
    if (result.code !== 0) {
      const said = result.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new Error(`${item.design} exited with ${result.code}: ${said}`);
    }
    if (item.design === "sequential") return JSON.parse(result.stdout);
    const destinations = fanoutSummary(result.stdout);
    const failed = destinations.findIndex((d) => d.status !== "ok");
    if (failed >= 0) throw new Error(`fanout: destination ${failed + 1} failed`);
    return {
      fastMs: destinations[0].elapsedMs,
      slowMs: destinations[1]?.elapsedMs ?? null,
      readBack: destinations.map((d) => d.readBack),
    };
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
}

/** One untimed run of each design on a 1 MiB folder, so no timed run pays for loading code. */
async function warmUp(workDir: string): Promise<void> {
  const folder = path.join(workDir, "warm-up");
  const source = path.join(folder, "source");
  await writeRandomFile(path.join(source, "a.bin"), MiB);
  try {
    for (const design of ["fanout", "sequential"] as const) {
      const item = { design, beside: true, runs: [], failure: null };
      await runOnce(item, source, path.join(folder, "run"), 1024 * MiB);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** The 1-minute load average from /proc/loadavg, or "unknown". */
async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
  } catch {
    return "unknown";
  }
}

function report(
  options: IndependenceOptions,
  dataSet: DataSet,
  cases: Case[],
  context: {
    date: Date;
    cachesDropped: boolean;
    cpu: string;
    calibration: Calibration | null;
    /** 1-minute load averages before the first run and after the last. */
    load: [string, string];
  },
): string {
  const { calibration } = context;
  const lines = [
    `## fanout benchmark: independence, camera set ×${options.scale}`,
    "",
    `- command: \`${options.command}\``,
    `- date: ${context.date.toISOString()}; CPUs: ${navigator.hardwareConcurrency} (${context.cpu}); ${Deno.build.os} ${Deno.build.arch}; Deno ${Deno.version.deno}`,
    `- data: ${dataSet.files.length} files, ${
      (dataSet.bytes / MiB).toFixed(1)
    } MiB in \`${dataSet.source}\` (${
      dataSet.generated ? "generated by this run" : "reused from an earlier run"
    }); \`fast\` and \`slow\` are sibling folders on the same file system, under \`${options.workDir}/runs\``,
    `- load average (1 min) before the first run: ${context.load[0]}, after the last: ${
      context.load[1]
    } (other work on the machine shows up here; on ${navigator.hardwareConcurrency} CPUs it competes with both designs)`,
    `- page cache: ${
      context.cachesDropped
        ? "dropped before every run (`sync; echo 3 > /proc/sys/vm/drop_caches`)"
        : "could NOT be dropped (needs root and a writable /proc): warm-cache figures"
    }`,
    calibration
      ? `- RATE: ${calibration.rate} bytes/s (${
        (calibration.rate / MiB).toFixed(1)
      } MiB/s) = ${options.slowFraction} × fast's own throughput in the first run of fanout alone (${
        (calibration.bytes / MiB).toFixed(1)
      } MiB in ${seconds(calibration.fastMs)} s = ${
        (calibration.bytes / MiB / (calibration.fastMs / 1000)).toFixed(1)
      } MiB/s); fanout gets \`--limit 2=${calibration.rate}\`, the baseline a RateLimiter of the same rate; both limit slow's writes and its read-back`
      : "- RATE: not measured (the first run of fanout alone failed)",
    `- runs: ${options.runs} of each, every round in the order fanout alone, fanout beside slow, sequential alone, sequential beside slow`,
    "",
    "| design / run | fast elapsed alone s | fast elapsed beside slow s | ratio (beside ÷ alone) | slow elapsed s |",
    "|---|--:|--:|--:|--:|",
  ];
  const labels: Record<Design, string> = {
    fanout: "fanout (`fanout backup`: one worker and queue per destination)",
    sequential: "sequential per-file copy, fast then slow (baseline, bench/sequential_copy.ts)",
  };
  const fastMedian = (item: Case | undefined) =>
    item && item.runs.length > 0 ? median(item.runs.map((r) => r.fastMs)) : null;
  for (const design of ["fanout", "sequential"] as const) {
    const alone = cases.find((c) => c.design === design && !c.beside);
    const beside = cases.find((c) => c.design === design && c.beside);
    const a = fastMedian(alone);
    const b = fastMedian(beside);
    const slow = beside && beside.runs.length > 0
      ? median(beside.runs.map((r) => r.slowMs!))
      : null;
    lines.push(
      `| ${labels[design]} | ${a === null ? "failed" : seconds(a)} | ${
        b === null ? "failed" : seconds(b)
      } | ${a === null || b === null ? "n/a" : (b / a).toFixed(3)} | ${
        slow === null ? "failed" : seconds(slow)
      } |`,
    );
  }
  lines.push(
    "",
    "- Elapsed = median over the runs of the time from the start of a run to the end of that destination's own verification: fanout's `elapsedMs` from its `--json` summary (after Deno's start-up), the baseline's own clock in the same span.",
    "- Issue #3's target for fanout: ratio ≤ 1.05, i.e. the fast destination loses at most 5 % beside a slow one.",
    "- fanout runs with its defaults (`--workers auto`, read-back on); the baseline copies one file at a time. Both hash with node:crypto SHA-256 in 1 MiB chunks, write a temp file, fsync and rename, and drop each copy from the page cache before reading it back.",
    "- Both destinations are folders on the same disk: the limit makes `slow` slow, but its writes, reads and hashing still share the disk and the CPUs with `fast`.",
  );
  for (const item of cases) {
    const name = `${item.design} ${item.beside ? "beside slow" : "alone"}`;
    if (item.runs.length > 0) {
      const runs = item.runs.map((r) =>
        r.slowMs === null ? seconds(r.fastMs) : `${seconds(r.fastMs)}/${seconds(r.slowMs)}`
      );
      const readBack = [...new Set(item.runs.flatMap((r) => r.readBack))];
      const alone = cases.find((c) => c.design === item.design && !c.beside)!;
      const paired = item.beside
        ? `; fast's ratio to the run alone just before it: ${
          item.runs.slice(0, alone.runs.length).map((r, i) =>
            (r.fastMs / alone.runs[i].fastMs).toFixed(3)
          ).join(", ")
        }`
        : "";
      lines.push(
        `- ${name}, every run (s${item.beside ? ", fast/slow" : ""}): ${
          runs.join(", ")
        }${paired}; read-back source: ${readBack.join(", ")}.`,
      );
    }
    if (item.failure) lines.push(`- **${name} failed**: ${item.failure}`);
  }
  return lines.join("\n");
}

/**
 * Runs the suite and prints its report; returns the exit code (1 if a case failed).
 *
 * @example
 * await runIndependence({ scale: 1, runs: 3, slowFraction: 0.25, workDir, command }, log);
 */
export async function runIndependence(
  options: IndependenceOptions,
  log: (line: string) => void,
): Promise<number> {
  const date = new Date();
  const runsDir = path.join(options.workDir, "runs");
  await Deno.remove(runsDir, { recursive: true }).catch(() => {});
  const dataSet = await ensureDataSet(options.workDir, "camera", options.scale, log);
  await warmUp(options.workDir);
  const loadBefore = await loadAverage();

  const cases: Case[] = (["fanout", "sequential"] as const).flatMap((design) =>
    [false, true].map((beside) => ({ design, beside, runs: [], failure: null }))
  );
  let calibration: Calibration | null = null;
  let cachesDropped = true;
  const total = cases.length * options.runs;
  let done = 0;
  for (let run = 0; run < options.runs; run++) {
    for (const item of cases) {
      done++;
      const name = `${item.design} ${item.beside ? "beside slow" : "alone"}`;
      if (item.failure || (item.beside && !calibration)) continue;
      if (!await dropCaches() && cachesDropped) {
        cachesDropped = false;
        log("could not drop the page cache (needs root and a writable /proc): warm-cache figures");
      }
      try {
        const runDir = path.join(runsDir, `${item.design}-${item.beside ? "beside" : "alone"}`);
        const result = await runOnce(item, dataSet.source, runDir, calibration?.rate ?? 0);
        item.runs.push(result);
        if (!calibration) {
          const throughput = dataSet.bytes / (result.fastMs / 1000);
          const rate = Math.max(1, Math.round(options.slowFraction * throughput));
          calibration = { bytes: dataSet.bytes, fastMs: result.fastMs, rate };
          log(`RATE for slow: ${rate} bytes/s (${(rate / MiB).toFixed(1)} MiB/s)`);
        }
        log(
          `[${done}/${total}] ${name} run ${run + 1}: fast ${seconds(result.fastMs)} s${
            result.slowMs === null ? "" : `, slow ${seconds(result.slowMs)} s`
          }`,
        );
      } catch (error) {
        item.failure = (error as Error).message;
        log(`[${done}/${total}] ${name} failed: ${item.failure}`);
      }
    }
  }
  await Deno.remove(runsDir, { recursive: true }).catch(() => {});

  console.log(report(options, dataSet, cases, {
    date,
    cachesDropped,
    cpu: await cpuModel(),
    calibration,
    load: [loadBefore, await loadAverage()],
  }));
  return cases.some((c) => c.failure) ? 1 : 0;
}

/**
 * The `independence` suite of `deno task bench` (issue #3, item 5): does a slow destination
 * cost the fast one time?
 *
 * On the camera set (bench/data.ts), fanout backs up to a folder `fast` alone, then to `fast`
 * beside a destination `slow` limited with `--limit 2=RATE`. `slow` is placed in one or both
 * of two places (`--slow-on same-disk|separate|both`, default both):
 *
 * - `same disk`: a sibling folder of `fast`, on the same file system, so it shares fast's
 *   disk bandwidth and journal;
 * - `separate device`: a folder under /dev/shm (tmpfs), or under `--slow-dir DIR`, standing
 *   in for a NAS or a USB disk that does not share fast's disk. It is skipped, with the
 *   reason in the report, when that folder is missing or lacks free space for the data set.
 *
 * RATE is `--slow-fraction` of fast's own throughput alone: source bytes ÷ the median
 * `elapsedMs` of three calibration runs of fanout alone, made (and left out of the table)
 * before the timed runs, because the first run of a session is the slowest. The baseline,
 * bench/sequential_copy.ts, makes the same runs as a sequential per-file copy, its slow copy
 * throttled to the same RATE. Each round runs fanout alone, fanout beside slow in each place,
 * then the baseline the same way; the page cache is dropped before every run when possible,
 * and the destinations are removed after it. The report is a Markdown table on stdout: per
 * design and place of slow, fast's median elapsed time alone and beside slow, their ratio
 * (issue #3's target for fanout: ≤ 1.05), slow's median elapsed time and where each
 * destination's read-back came from. Nothing here asserts a speed.
 */
import { path, statfs } from "../src/deps.ts";
import { PERMISSION_FLAGS, RUN_FLAGS } from "../src/permissions.ts";
import { REPO, writeRandomFile } from "../tests/helpers.ts";
import { fanout, type FanoutDestination, fanoutSummary } from "./contenders.ts";
import { type DataSet, ensureDataSet } from "./data.ts";
import { cpuModel, dropCaches, median, runStep, type Step } from "./measure.ts";

/** Slow's limit as a fraction of fast's own throughput unless `--slow-fraction` says otherwise. */
export const DEFAULT_SLOW_FRACTION = 0.25;

/** Where `slow` may be put: beside `fast` on its disk, or on another device. */
export const PLACEMENTS = ["same-disk", "separate"] as const;
export type Placement = typeof PLACEMENTS[number];

/** The values of `--slow-on`. */
export const SLOW_ON = [...PLACEMENTS, "both"] as const;
export type SlowOn = typeof SLOW_ON[number];

/** The folder for `slow` on a separate device unless `--slow-dir` says otherwise. */
export const DEFAULT_SEPARATE_DIR = "/dev/shm";

/**
 * Runs of fanout alone whose median sets RATE; they are not part of the table. Three, not
 * two: the median of two is their mean, and the first run of a session can be several times
 * slower than the rest (seen: 17 s against 5 s), which would drag RATE far down.
 */
const CALIBRATION_RUNS = 3;

export interface IndependenceOptions {
  scale: number;
  runs: number;
  slowFraction: number;
  slowOn: SlowOn;
  /** `--slow-dir`: the folder for a separate-device `slow`; null for /dev/shm. */
  slowDir: string | null;
  /** Folder for the data set and the runs. */
  workDir: string;
  /** The command line that reproduces this run, for the report. */
  command: string;
}

/**
 * `fanout`: one run to fast, and to slow beside it. `processes`: the machine's floor, the
 * same two copies made by two independent fanout processes started together (fast with no
 * limit, slow with `--bwlimit RATE`), sharing nothing but the machine; what fast loses there
 * is the cost of slow's work to the CPUs, memory and disks, not of any coupling in fanout.
 * Its "alone" is fanout's. `sequential`: the baseline, bench/sequential_copy.ts.
 */
type Design = "fanout" | "processes" | "sequential";

/** The designs in the order of the table and of every round. */
const DESIGNS: Design[] = ["fanout", "processes", "sequential"];

/** One design, backing up to fast alone (`placement` null) or beside slow placed somewhere. */
interface Case {
  design: Design;
  placement: Placement | null;
  runs: Elapsed[];
  failure: string | null;
}

/** One run: elapsed milliseconds from the start of the run to the end of each verification. */
interface Elapsed {
  fastMs: number;
  slowMs: number | null;
  /** Where each destination's read-back came from: "disk" or "cache" (fast first). */
  readBack: string[];
  /**
   * Bytes read from the source, by fanout's own count (bytes copied less those taken from
   * another destination's read); null for the sequential baseline, which reads it per copy.
   */
  sourceBytes: number | null;
}

/** How RATE was found: the median of fast's calibration runs alone. */
interface Calibration {
  bytes: number;
  runsMs: number[];
  fastMs: number;
  rate: number;
}

/** Where the runs of one place write: `fast` always, `slow` when beside. */
interface Place {
  /** Folder that holds one folder per case, created and removed by the suite. */
  root: string;
  /** The file system, as `df` names it, for the report. */
  filesystem: string;
  /**
   * True when the folder lies under /dev: Deno grants any path there only with
   * `--allow-all` (denoland/deno#30979), so runs writing there get it instead of
   * fanout's four permissions.
   */
  allowAll: boolean;
}

/** A separate-device place that could be used, or why not. */
type Separate = (Place & { sameDeviceAsFast: boolean }) | { skipped: string };

const MAIN = path.join(REPO, "main.ts");
const SEQUENTIAL = path.join(REPO, "bench", "sequential_copy.ts");
const PERMISSIONS: string[] = [...PERMISSION_FLAGS];
const MiB = 1024 * 1024;

const PLACE_LABELS: Record<Placement, string> = {
  "same-disk": "same disk",
  separate: "separate device",
};

/** The design whose runs alone a design's rows are compared with. */
function aloneOf(design: Design): Design {
  return design === "processes" ? "fanout" : design;
}

function caseName(item: Pick<Case, "design" | "placement">): string {
  return `${item.design} ${
    item.placement ? `beside slow (${PLACE_LABELS[item.placement]})` : "alone"
  }`;
}

function caseFolder(item: Pick<Case, "design" | "placement">): string {
  return `${item.design}-${item.placement ?? "alone"}`;
}

/** `step` with `--allow-all` in place of fanout's permissions. */
function withAllowAll(step: Step): Step {
  const args = step.args.filter((arg) => !PERMISSIONS.includes(arg));
  args.splice(args.indexOf("run") + 1, 0, "--allow-all");
  return { ...step, args };
}

/** The command of one run, writing into `fast` (and `slow` when beside). */
function stepFor(
  design: Exclude<Design, "processes">,
  source: string,
  fast: string,
  slow: string | null,
  rate: number,
): Step {
  if (design === "fanout") {
    const destinations = slow ? [fast, slow] : [fast];
    return fanout(
      { source, destinations, main: MAIN },
      slow ? ["--limit", `2=${rate}`] : [],
    )[0];
  }
  return {
    program: Deno.execPath(),
    args: [
      "run",
      ...RUN_FLAGS,
      SEQUENTIAL,
      source,
      fast,
      ...slow ? [slow, "--rate", String(rate)] : [],
    ],
    captureStdout: true,
  };
}

/**
 * Runs one case: `fast` in a fresh folder under `fastRoot`, `slow` (when `slowRoot` is given)
 * in a fresh folder under `slowRoot`; both are removed afterwards.
 */
async function runOnce(
  design: Design,
  source: string,
  folder: string,
  fastRoot: string,
  slowRoot: string | null,
  rate: number,
  allowAll = false,
): Promise<Elapsed> {
  const fastDir = path.join(fastRoot, folder);
  const slowDir = slowRoot === null ? null : path.join(slowRoot, folder);
  const made = slowDir === null || slowDir === fastDir ? [fastDir] : [fastDir, slowDir];
  for (const dir of made) await Deno.mkdir(dir, { recursive: true });
  try {
    const fast = path.join(fastDir, "fast");
    const slow = slowDir === null ? null : path.join(slowDir, "slow");
    if (design === "processes") return await runProcesses(source, fast, slow!, rate, allowAll);
    const step = stepFor(design, source, fast, slow, rate);
    const result = await runStep(allowAll ? withAllowAll(step) : step, false);
    if (result.code !== 0) {
      const said = result.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new Error(`${design} exited with ${result.code}: ${said}`);
    }
    if (design === "sequential") return { ...JSON.parse(result.stdout), sourceBytes: null };
    const destinations = fanoutSummary(result.stdout);
    const failed = destinations.findIndex((d) => d.status !== "ok");
    if (failed >= 0) throw new Error(`fanout: destination ${failed + 1} failed`);
    return {
      fastMs: destinations[0].elapsedMs,
      slowMs: destinations[1]?.elapsedMs ?? null,
      readBack: destinations.map((d) => d.readBack),
      sourceBytes: sourceBytes(destinations),
    };
  } finally {
    for (const dir of made) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The `processes` design: fanout to fast and fanout to slow, as two processes at once. */
async function runProcesses(
  source: string,
  fast: string,
  slow: string,
  rate: number,
  allowAll: boolean,
): Promise<Elapsed> {
  const fastStep = fanout({ source, destinations: [fast], main: MAIN }, [])[0];
  const slowStep =
    fanout({ source, destinations: [slow], main: MAIN }, ["--bwlimit", `${rate}`])[0];
  const results = await Promise.all([
    runStep(fastStep, false),
    runStep(allowAll ? withAllowAll(slowStep) : slowStep, false),
  ]);
  const summaries = results.map((result, i) => {
    const which = i === 0 ? "fast" : "slow";
    if (result.code !== 0) {
      const said = result.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new Error(`fanout to ${which} exited with ${result.code}: ${said}`);
    }
    const [summary] = fanoutSummary(result.stdout);
    if (summary.status !== "ok") throw new Error(`fanout to ${which} failed`);
    return summary;
  });
  return {
    fastMs: summaries[0].elapsedMs,
    slowMs: summaries[1].elapsedMs,
    readBack: summaries.map((d) => d.readBack),
    sourceBytes: sourceBytes(summaries),
  };
}

/** What the destinations of fanout summaries read from the source themselves. */
function sourceBytes(destinations: FanoutDestination[]): number {
  return destinations.reduce((sum, d) => sum + d.bytes - d.sharedBytes, 0);
}

/** One untimed run of each design on a 1 MiB folder, so no timed run pays for loading code. */
async function warmUp(workDir: string, slowPlaces: Place[]): Promise<void> {
  const folder = path.join(workDir, "warm-up");
  const source = path.join(folder, "source");
  await writeRandomFile(path.join(source, "a.bin"), MiB);
  try {
    for (const design of DESIGNS) {
      for (const place of slowPlaces.length > 0 ? slowPlaces : [null]) {
        if (design === "processes" && place === null) continue;
        const name = `warm-up-${design}`;
        const rate = 1024 * MiB;
        await runOnce(design, source, name, folder, place?.root ?? null, rate, place?.allowAll);
      }
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** The 1-minute load average from /proc/loadavg, or "unknown". */
async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
  } catch {
    return "unknown";
  }
}

/** `folder`'s file system as `df -PT` names it: "/dev/vda (ext4, mounted at /)". */
async function describeFilesystem(folder: string): Promise<string> {
  try {
    const output = await new Deno.Command("df", {
      args: ["-PT", folder],
      stdin: "null",
      stderr: "null",
    }).output();
    const fields = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!
      .split(/\s+/);
    if (output.success && fields.length >= 7) {
      return `${fields[0]} (${fields[1]}, mounted at ${fields.slice(6).join(" ")})`;
    }
  } catch {
    // df is missing: fall through to statfs.
  }
  try {
    return `file system type 0x${(await statfs(folder)).type.toString(16)}`;
  } catch {
    return "unknown file system";
  }
}

/**
 * Checks the folder for a separate-device `slow`: it must be a folder with room for one
 * copy of the data set (plus 5 % and 64 MiB for records and temp files).
 */
async function checkSeparate(base: string, fastRoot: string, bytes: number): Promise<Separate> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(base);
  } catch (error) {
    return { skipped: `${base} is not there (${(error as Error).message})` };
  }
  if (!info.isDirectory) return { skipped: `${base} is not a folder` };
  const needed = Math.ceil(bytes * 1.05) + 64 * MiB;
  let free: number;
  try {
    const stats = await statfs(base);
    free = stats.bavail * stats.bsize;
  } catch (error) {
    return { skipped: `the free space of ${base} could not be read (${(error as Error).message})` };
  }
  if (free < needed) {
    return {
      skipped: `${base} has ${mib(free)} MiB free; one copy of the data set needs ${
        mib(needed)
      } MiB`,
    };
  }
  const sameDeviceAsFast = info.dev === (await Deno.stat(fastRoot)).dev;
  const real = await Deno.realPath(base);
  return {
    root: path.join(base, `fanout-bench-${Deno.pid}`),
    filesystem: await describeFilesystem(base),
    allowAll: real === "/dev" || real.startsWith("/dev/"),
    sameDeviceAsFast,
  };
}

interface Context {
  date: Date;
  cachesDropped: boolean;
  cpu: string;
  calibration: Calibration | null;
  calibrationFailure: string | null;
  /** 1-minute load averages before the first run and after the last. */
  load: [string, string];
  fast: Place;
  /** The places measured, each with its `Place`. */
  places: Partial<Record<Placement, Place & { sameDeviceAsFast?: boolean }>>;
  /** Places asked for but skipped, with the reason. */
  skipped: Partial<Record<Placement, string>>;
}

function report(
  options: IndependenceOptions,
  dataSet: DataSet,
  cases: Case[],
  context: Context,
): string {
  const { calibration, places, skipped } = context;
  const wanted = PLACEMENTS.filter((p) => options.slowOn === "both" || options.slowOn === p);
  const slowLines = wanted.map((placement) => {
    const place = places[placement];
    if (!place) return `- slow, ${PLACE_LABELS[placement]}: **skipped**: ${skipped[placement]}`;
    if (placement === "same-disk") {
      return `- slow, same disk: \`slow\`, a sibling folder of \`fast\` under \`${place.root}\`, on ${place.filesystem}: it shares fast's disk, its bandwidth and its journal`;
    }
    const tmpfs = /\(tmpfs,/.test(place.filesystem);
    return `- slow, separate device: \`slow\` under \`${place.root}\`, on ${place.filesystem}${
      place.sameDeviceAsFast
        ? ": **warning: the same device as `fast`**, so this row does not measure a separate device"
        : ": it stands for a NAS or a USB disk that does not share fast's disk bandwidth (it still shares the CPUs)"
    }${
      place.allowAll
        ? `; Deno grants a path under /dev only with \`--allow-all\` (denoland/deno#30979), so the runs of this row (fanout and baseline) get \`--allow-all\` instead of fanout's own permissions (${
          PERMISSION_FLAGS.join(" ")
        }); every other run has those`
        : ""
    }${
      tmpfs
        ? "; on tmpfs slow's copies live in memory, so its writes never reach a disk and its read-back comes from memory (fanout reports `readBack: cache` for it, as does the baseline)"
        : ""
    }`;
  });
  const rateLine = calibration
    ? `- RATE: ${calibration.rate} bytes/s (${
      mib(calibration.rate)
    } MiB/s) = ${options.slowFraction} × fast's own throughput alone, calibrated on the median of ${calibration.runsMs.length} untimed runs of fanout alone made before the timed runs (${
      calibration.runsMs.map(seconds).join(" s, ")
    } s; median ${seconds(calibration.fastMs)} s for ${mib(calibration.bytes)} MiB = ${
      mib(calibration.bytes / (calibration.fastMs / 1000))
    } MiB/s), not on the very first run, which tends to be the slowest of a session (with only two runs the median would be their mean, which a slow first run still drags down); fanout gets \`--limit 2=${calibration.rate}\`, the baseline a RateLimiter of the same rate; both limit slow's writes and its read-back`
    : `- RATE: not measured (calibration failed: ${context.calibrationFailure}); no run beside slow was made`;
  const order = cases.map(caseName).join(", ");
  const lines = [
    `## fanout benchmark: independence, camera set ×${options.scale}`,
    "",
    `- command: \`${options.command}\``,
    `- date: ${context.date.toISOString()}; CPUs: ${navigator.hardwareConcurrency} (${context.cpu}); ${Deno.build.os} ${Deno.build.arch}; Deno ${Deno.version.deno}`,
    `- data: ${dataSet.files.length} files, ${mib(dataSet.bytes)} MiB in \`${dataSet.source}\` (${
      dataSet.generated ? "generated by this run" : "reused from an earlier run"
    })`,
    `- fast: \`fast\` under \`${context.fast.root}\`, on ${context.fast.filesystem}, in every row`,
    ...slowLines,
    `- load average (1 min) before the first run: ${context.load[0]}, after the last: ${
      context.load[1]
    } (other work on the machine shows up here; on ${navigator.hardwareConcurrency} CPUs it competes with both designs)`,
    `- page cache: ${
      context.cachesDropped
        ? "dropped before every run, calibration included (`sync; echo 3 > /proc/sys/vm/drop_caches`)"
        : "could NOT be dropped (needs root and a writable /proc): warm-cache figures"
    }`,
    rateLine,
    `- runs: ${options.runs} of each, every round in the order ${order}`,
    "",
    "| design | slow destination | fast elapsed alone s | fast elapsed beside slow s | ratio (beside ÷ alone) | slow elapsed s | source read ÷ data, beside | read-back fast / slow |",
    "|---|---|--:|--:|--:|--:|--:|---|",
  ];
  const labels: Record<Design, string> = {
    fanout: "fanout (`fanout backup`: one worker and queue per destination)",
    processes:
      "floor: two independent fanout processes, one per destination (alone = fanout's alone)",
    sequential: "sequential per-file copy, fast then slow (baseline, bench/sequential_copy.ts)",
  };
  const fastMedian = (item: Case | undefined) =>
    item && item.runs.length > 0 ? median(item.runs.map((r) => r.fastMs)) : null;
  const readBacks = (item: Case | undefined, index: number) => {
    const sources = [...new Set(item?.runs.map((r) => r.readBack[index] ?? "none") ?? [])];
    return sources.length > 0 ? sources.join("+") : "—";
  };
  const measured = PLACEMENTS.filter((p) => places[p]);
  for (const design of DESIGNS) {
    const alone = cases.find((c) => c.design === aloneOf(design) && c.placement === null);
    const a = fastMedian(alone);
    const rows = measured.length > 0 ? measured : [null];
    for (const placement of rows) {
      const beside = placement === null
        ? undefined
        : cases.find((c) => c.design === design && c.placement === placement);
      const b = fastMedian(beside);
      const slow = beside && beside.runs.length > 0
        ? median(beside.runs.map((r) => r.slowMs!))
        : null;
      const place = placement === null
        ? "none measured"
        : `${PLACE_LABELS[placement]} (${places[placement]!.filesystem.split(" ")[0]})`;
      const besideCell = placement === null ? "—" : b === null ? "failed" : seconds(b);
      const reads = beside?.runs.flatMap((r) => r.sourceBytes === null ? [] : [r.sourceBytes]);
      const readsCell = reads && reads.length > 0
        ? (median(reads) / dataSet.bytes).toFixed(2)
        : design === "sequential" && placement !== null
        ? "2 (one read per copy)"
        : "—";
      lines.push(
        `| ${labels[design]} | ${place} | ${a === null ? "failed" : seconds(a)} | ${besideCell} | ${
          a === null || b === null ? "n/a" : (b / a).toFixed(3)
        } | ${
          placement === null ? "—" : slow === null ? "failed" : seconds(slow)
        } | ${readsCell} | ${readBacks(beside ?? alone, 0)} / ${
          placement === null ? "—" : readBacks(beside, 1)
        } |`,
      );
    }
  }
  const coupling = measured.flatMap((placement) => {
    const ours = fastMedian(cases.find((c) => c.design === "fanout" && c.placement === placement));
    const floor = fastMedian(
      cases.find((c) => c.design === "processes" && c.placement === placement),
    );
    return ours === null || floor === null
      ? []
      : [`${(ours / floor).toFixed(3)} with slow on the ${PLACE_LABELS[placement]}`];
  });
  if (coupling.length > 0) {
    lines.push(
      "",
      `fanout's fast elapsed beside slow ÷ the floor's: ${coupling.join(", ")}.`,
    );
  }
  lines.push(
    "",
    "- Elapsed = median over the runs of the time from the start of a run to the end of that destination's own verification: fanout's `elapsedMs` from its `--json` summary (after Deno's start-up), the baseline's own clock in the same span. A design's `fast elapsed alone` is the same runs in each of its rows.",
    "- Source read ÷ data, beside: the bytes read from the source during a run beside slow, by fanout's own count (its summary's `bytes` less `sharedBytes`, summed over the destinations), ÷ the data set's size; median of the runs. fanout shares one read between fast and slow while slow keeps up, and slow reads for itself once it falls behind, so with slow at a quarter of fast's speed it is near 2 either way; the floor's two processes read it once each (2.00). It counts what fanout asked the source for, not what the disk delivered (the page cache may serve some).",
    "- Issue #3's target for fanout: ratio ≤ 1.05, i.e. the fast destination loses at most 5 % beside a slow one.",
    "- The floor row runs slow's work in a process of its own that shares nothing with fast's but the machine: what fast loses there is what slow's reads, writes, hashing and fsyncs cost the CPUs and the disk. fanout's ratio against the floor's tells what sharing one process and one source walk adds on top; at or below 1 it adds nothing.",
    "- fanout runs with its defaults (`--workers auto`, read-back on); the baseline copies one file at a time. Both hash with node:crypto SHA-256 in 1 MiB chunks, write a temp file, fsync and rename, and drop each copy from the page cache before reading it back where the file system allows it.",
    `- Read-back: \`disk\` means the copy was dropped from the page cache and read from the device, \`cache\` that it was read from memory. ${
      cases.every((c) => c.runs.every((r) => r.readBack[0] === "disk"))
        ? "fast's read-back was from disk in every run of every row"
        : "**fast's read-back was not from disk in every run** (see the last column)"
    }; a slow destination on tmpfs has no disk to read from, so its read-back is from memory.`,
    "- same disk: the limit makes `slow` slow, but its writes, reads and fsyncs still share the disk, the file system's journal and the CPUs with `fast`. separate device: only the CPUs (and memory) are shared.",
  );
  for (const item of cases) {
    const name = caseName(item);
    if (item.runs.length > 0) {
      const runs = item.runs.map((r) =>
        r.slowMs === null ? seconds(r.fastMs) : `${seconds(r.fastMs)}/${seconds(r.slowMs)}`
      );
      const alone = cases.find((c) => c.design === aloneOf(item.design) && c.placement === null)!;
      const paired = item.placement
        ? `; fast's ratio to the run alone of the same round: ${
          item.runs.slice(0, alone.runs.length).map((r, i) =>
            (r.fastMs / alone.runs[i].fastMs).toFixed(3)
          ).join(", ")
        }`
        : "";
      lines.push(
        `- ${name}, every run (s${item.placement ? ", fast/slow" : ""}): ${
          runs.join(", ")
        }${paired}.`,
      );
    }
    if (item.failure) lines.push(`- **${name} failed**: ${item.failure}`);
  }
  return lines.join("\n");
}

/**
 * Runs the suite and prints its report; returns the exit code (1 if a case failed or no
 * place asked for `slow` could be used).
 *
 * @example
 * await runIndependence({
 *   scale: 1, runs: 3, slowFraction: 0.25, slowOn: "both", slowDir: null, workDir, command,
 * }, log);
 */
export async function runIndependence(
  options: IndependenceOptions,
  log: (line: string) => void,
): Promise<number> {
  const date = new Date();
  const runsDir = path.join(options.workDir, "runs");
  await Deno.remove(runsDir, { recursive: true }).catch(() => {});
  const dataSet = await ensureDataSet(options.workDir, "camera", options.scale, log);
  await Deno.mkdir(runsDir, { recursive: true });

  const fast: Place = {
    root: runsDir,
    filesystem: await describeFilesystem(runsDir),
    allowAll: false,
  };
  const places: Context["places"] = {};
  const skipped: Context["skipped"] = {};
  if (options.slowOn !== "separate") places["same-disk"] = fast;
  if (options.slowOn !== "same-disk") {
    const base = path.resolve(options.slowDir ?? DEFAULT_SEPARATE_DIR);
    const separate = await checkSeparate(base, runsDir, dataSet.bytes);
    if ("skipped" in separate) {
      skipped.separate = separate.skipped;
      log(`skipping slow on a separate device: ${separate.skipped}`);
    } else {
      places.separate = separate;
      if (separate.sameDeviceAsFast) {
        log(`warning: ${base} is on the same device as ${runsDir}`);
      }
    }
  }
  const measured = PLACEMENTS.filter((p) => places[p]);

  try {
    await warmUp(options.workDir, measured.map((p) => places[p]!));
    const loadBefore = await loadAverage();

    let cachesDropped = true;
    const drop = async () => {
      if (!await dropCaches() && cachesDropped) {
        cachesDropped = false;
        log("could not drop the page cache (needs root and a writable /proc): warm-cache figures");
      }
    };

    let calibration: Calibration | null = null;
    let calibrationFailure: string | null = null;
    const runsMs: number[] = [];
    for (let run = 0; run < CALIBRATION_RUNS && !calibrationFailure; run++) {
      await drop();
      try {
        const result = await runOnce("fanout", dataSet.source, "calibration", runsDir, null, 0);
        runsMs.push(result.fastMs);
        log(`calibration ${run + 1}/${CALIBRATION_RUNS}: fanout alone ${seconds(result.fastMs)} s`);
      } catch (error) {
        calibrationFailure = (error as Error).message;
        log(`calibration failed: ${calibrationFailure}`);
      }
    }
    if (!calibrationFailure) {
      const fastMs = median(runsMs);
      const rate = Math.max(
        1,
        Math.round(options.slowFraction * dataSet.bytes / (fastMs / 1000)),
      );
      calibration = { bytes: dataSet.bytes, runsMs, fastMs, rate };
      log(`RATE for slow: ${rate} bytes/s (${mib(rate)} MiB/s)`);
    }

    const cases: Case[] = DESIGNS.flatMap((design) =>
      [null, ...measured]
        .filter((placement) => design !== "processes" || placement !== null)
        .map((placement) => ({ design, placement, runs: [], failure: null }))
    );
    const total = cases.length * options.runs;
    let done = 0;
    for (let run = 0; run < options.runs; run++) {
      for (const item of cases) {
        done++;
        const name = caseName(item);
        if (item.failure || (item.placement && !calibration)) continue;
        await drop();
        try {
          const result = await runOnce(
            item.design,
            dataSet.source,
            caseFolder(item),
            runsDir,
            item.placement ? places[item.placement]!.root : null,
            calibration?.rate ?? 0,
            item.placement ? places[item.placement]!.allowAll : false,
          );
          item.runs.push(result);
          log(
            `[${done}/${total}] ${name} run ${run + 1}: fast ${seconds(result.fastMs)} s${
              result.slowMs === null ? "" : `, slow ${seconds(result.slowMs)} s`
            } (read-back ${result.readBack.join("/")})`,
          );
        } catch (error) {
          item.failure = (error as Error).message;
          log(`[${done}/${total}] ${name} failed: ${item.failure}`);
        }
      }
    }

    console.log(report(options, dataSet, cases, {
      date,
      cachesDropped,
      cpu: await cpuModel(),
      calibration,
      calibrationFailure,
      load: [loadBefore, await loadAverage()],
      fast,
      places,
      skipped,
    }));
    const failed = cases.some((c) => c.failure) || calibrationFailure !== null;
    return failed || measured.length === 0 ? 1 : 0;
  } finally {
    await Deno.remove(runsDir, { recursive: true }).catch(() => {});
    if (places.separate) {
      await Deno.remove(places.separate.root, { recursive: true }).catch(() => {});
    }
  }
}

/**
 * fanout against cp, rsync, rclone and sha256sum on the same data, in one run; also the
 * entry of the other suites (`--suite independence`: bench/independence.ts).
 *
 * `deno task bench [--set camera|small|large|many] [--scale F[,F...]] [--runs N]
 * [--destinations 1,3] [--only id,...] [--dir DIR]`
 * `deno task bench --suite independence [--scale F] [--runs N] [--slow-fraction F]
 * [--slow-on same-disk|separate|both] [--slow-dir DIR] [--dir DIR]`
 *
 * In the default suite, `contenders`, each contender copies the data set (bench/data.ts)
 * into fresh destination folders, once per run and per destination count; runs go
 * round-robin over all contenders, so no contender's runs come back to back. Before every
 * run the page cache is dropped when possible. A run is timed from its first command to the
 * end of a final `sync`, so every contender is measured until its copies are on disk
 * (fanout fsyncs each file itself; cp and rsync leave that to the kernel). The destinations
 * are removed after each run. The report is a Markdown table on stdout: median wall time,
 * MiB/s of source data per destination, the ratio to the verified baseline `cp -r` +
 * `sha256sum -c`, and peak RSS. With several scales (`--scale 0.1,1`) every scale's runs go
 * round-robin together, each scale gets its table, and a last table shows how each
 * contender's time grew against the files and the bytes (linear: as much as they did).
 * Progress goes to stderr. This is a measurement, not a test: nothing here asserts a speed.
 */
import { parseArgs } from "../tests/deps.ts";
import { path } from "../src/deps.ts";
import { REPO } from "../tests/helpers.ts";
import { type DataSet, ensureChecksums, ensureDataSet, SET_NAMES, type SetName } from "./data.ts";
import {
  DEFAULT_SEPARATE_DIR,
  DEFAULT_SLOW_FRACTION,
  runIndependence,
  SLOW_ON,
  type SlowOn,
} from "./independence.ts";
import {
  BASELINE,
  type Contender,
  CONTENDERS,
  type FanoutDestination,
  fanoutSummary,
  type RunPaths,
} from "./contenders.ts";
import {
  canMeasureMemory,
  cpuModel,
  deviceReader,
  dropCaches,
  findProgram,
  median,
  type MemoryCage,
  memoryCage,
  runStep,
  sync,
} from "./measure.ts";

const SUITES = ["contenders", "independence"] as const;
type Suite = typeof SUITES[number];

const HELP = `Benchmark fanout: against cp, rsync, rclone and sha256sum on the same data, or
a fast destination alone and beside a slow one (--suite independence).

Usage: deno task bench [options]

Options:
  --suite <name>          what to measure (default contenders):
                          contenders = fanout against cp, rsync, rclone and sha256sum;
                          independence = fanout's fast destination alone and beside a
                          slow one (--limit), against a sequential per-file copy
  --set <name>            data set (default camera): camera = XMP 2–8 KiB, JPEG 1–4 MiB,
                          RAW 20–30 MiB and video 100–200 MiB files, about 1 GiB;
                          small = 5,000 files of 4–64 KiB; large = one 1 GiB file;
                          many = 100,000 files of 0–4 KiB (contenders only;
                          independence always uses camera)
  --scale <factor,...>    multiply the number of files of each kind (default 1); with
                          several (contenders only), e.g. 0.1,1, each scale is run in
                          the same rounds and a last table shows how the time grew
                          with the files and the bytes
  --runs <n>              runs of each contender or case, round-robin (default 3)
  --destinations <list>   destination counts to measure (default 1,3; contenders only)
  --only <id,...>         contenders to run (default all; contenders only):
                          ${CONTENDERS.map((c) => c.id).join(", ")}
  --slow-fraction <f>     independence only: the slow destination's limit as a fraction
                          of the fast one's own throughput alone, above 0, at most 1
                          (default ${DEFAULT_SLOW_FRACTION})
  --slow-on <where>       independence only: where the slow destination is (default
                          both): same-disk = a sibling folder of the fast one;
                          separate = a folder under --slow-dir, standing for a NAS or
                          USB disk that does not share the fast one's disk; both
  --slow-dir <folder>     independence only: the folder for a separate-device slow
                          destination (default ${DEFAULT_SEPARATE_DIR}, tmpfs); skipped, with
                          the reason, if missing or short of space for the data set
  --dir <folder>          work folder for data sets and runs (default <repo>/.test-tmp/bench)
  --dest-dir <folder>     contenders only: where the runs' destinations go (default
                          <dir>/runs), e.g. a mounted USB disk or another file system
  --memory-limit <MiB>    contenders only: run every command in a memory cgroup of this
                          size, page cache included (Linux, root): a machine short of
                          memory, whose page cache cannot share one destination's source
                          reads with the others
  -h, --help              this text

The report (Markdown) goes to stdout, progress to stderr.`;

interface Options {
  suite: Suite;
  set: SetName;
  /** The scales to measure, smallest first; one for the independence suite. */
  scales: number[];
  runs: number;
  destinations: number[];
  only: string[] | null;
  dir: string | null;
  destDir: string | null;
  memoryLimitMiB: number | null;
  slowFraction: number;
  slowOn: SlowOn;
  slowDir: string | null;
}

class UsageError extends Error {}

function parseOptions(args: string[]): Options | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      suite: { type: "string", default: "contenders" },
      set: { type: "string" },
      scale: { type: "string", default: "1" },
      runs: { type: "string", default: "3" },
      destinations: { type: "string" },
      only: { type: "string" },
      "slow-fraction": { type: "string" },
      "slow-on": { type: "string" },
      "slow-dir": { type: "string" },
      dir: { type: "string" },
      "dest-dir": { type: "string" },
      "memory-limit": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (!SUITES.includes(values.suite as Suite)) {
    throw new UsageError(`--suite must be one of ${SUITES.join(", ")}`);
  }
  const suite = values.suite as Suite;
  const foreign = suite === "independence"
    ? (["set", "destinations", "only", "dest-dir", "memory-limit"] as const).filter((name) =>
      values[name] !== undefined
    )
    : (["slow-fraction", "slow-on", "slow-dir"] as const).filter((name) =>
      values[name] !== undefined
    );
  if (foreign.length > 0) {
    throw new UsageError(
      `${foreign.map((name) => `--${name}`).join(", ")} cannot be used with --suite ${suite}`,
    );
  }
  const set = values.set ?? "camera";
  if (!SET_NAMES.includes(set as SetName)) {
    throw new UsageError(`--set must be one of ${SET_NAMES.join(", ")}`);
  }
  const scales = [...new Set(values.scale.split(",").map(Number))].sort((a, b) => a - b);
  if (scales.some((scale) => !(scale > 0) || !Number.isFinite(scale))) {
    throw new UsageError("--scale must be a number above 0, or a list of them such as 0.1,1");
  }
  if (suite === "independence" && scales.length > 1) {
    throw new UsageError("--suite independence takes one --scale");
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new UsageError("--runs must be a whole number ≥ 1");
  }
  const destinations = (values.destinations ?? "1,3").split(",").map(Number);
  if (destinations.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) {
    throw new UsageError("--destinations must be a list of whole numbers from 1 to 16, e.g. 1,3");
  }
  const only = values.only?.split(",") ?? null;
  const unknown = only?.filter((id) => !CONTENDERS.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(
      `--only: unknown ${unknown.join(", ")}; known: ${CONTENDERS.map((c) => c.id).join(", ")}`,
    );
  }
  const memoryLimitMiB = values["memory-limit"] === undefined
    ? null
    : Number(values["memory-limit"]);
  if (memoryLimitMiB !== null && !(Number.isInteger(memoryLimitMiB) && memoryLimitMiB >= 64)) {
    throw new UsageError("--memory-limit must be a whole number of MiB, at least 64");
  }
  const slowFraction = Number(values["slow-fraction"] ?? DEFAULT_SLOW_FRACTION);
  if (!(slowFraction > 0 && slowFraction <= 1)) {
    throw new UsageError("--slow-fraction must be above 0 and at most 1");
  }
  const slowOn = values["slow-on"] ?? "both";
  if (!SLOW_ON.includes(slowOn as SlowOn)) {
    throw new UsageError(`--slow-on must be one of ${SLOW_ON.join(", ")}`);
  }
  if (values["slow-dir"] !== undefined && slowOn === "same-disk") {
    throw new UsageError("--slow-dir needs --slow-on separate or both");
  }
  return {
    suite,
    set: set as SetName,
    scales,
    runs,
    destinations: [...new Set(destinations)],
    only,
    dir: values.dir ?? null,
    destDir: values["dest-dir"] ?? null,
    memoryLimitMiB,
    slowFraction,
    slowOn: slowOn as SlowOn,
    slowDir: values["slow-dir"] ?? null,
  };
}

/** The options spelled out in full, so the printed command reproduces the run. */
function commandLine(options: Options): string {
  const quote = (s: string) => /^[\w.,/@%+=:-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
  const common = ["--scale", options.scales.join(","), "--runs", String(options.runs)];
  const args = options.suite === "independence"
    ? [
      "--suite",
      "independence",
      ...common,
      "--slow-fraction",
      String(options.slowFraction),
      "--slow-on",
      options.slowOn,
      ...(options.slowDir ? ["--slow-dir", options.slowDir] : []),
    ]
    : [
      "--set",
      options.set,
      ...common,
      "--destinations",
      options.destinations.join(","),
      ...(options.only ? ["--only", options.only.join(",")] : []),
    ];
  if (options.dir) args.push("--dir", options.dir);
  if (options.destDir) args.push("--dest-dir", options.destDir);
  if (options.memoryLimitMiB !== null) args.push("--memory-limit", String(options.memoryLimitMiB));
  return ["deno", "task", "bench", ...args].map(quote).join(" ");
}

/** The data set at one scale, and the checksum file `sha256sum -c` checks against. */
interface ScaledSet {
  scale: number;
  dataSet: DataSet;
  /** Null when no contender needs it; `seconds` null when it was reused. */
  checksums: { file: string; seconds: number | null } | null;
}

/** One contender at one destination count, on the data set at one scale. */
interface Case {
  contender: Contender;
  count: number;
  set: ScaledSet;
  runs: RunResult[];
  failure: string | null;
}

interface RunResult {
  seconds: number;
  syncSeconds: number;
  /** Bytes read from the data set's block device during the run; null if unknown. */
  deviceReadBytes: number | null;
  maxRssKiB: number | null;
  fanout: FanoutDestination[] | null;
}

const log = (line: string) => console.error(line);

/** Runs every step of one case into fresh destinations under `runDir`, then removes them. */
async function runOnce(
  item: Case,
  runDir: string,
  paths: Omit<RunPaths, "destinations">,
  measureMemory: boolean,
  deviceRead: (() => Promise<number>) | null,
  cage: MemoryCage | null,
): Promise<RunResult> {
  await Deno.mkdir(runDir, { recursive: true });
  const destinations = Array.from({ length: item.count }, (_, i) => path.join(runDir, `d${i + 1}`));
  const steps = item.contender.steps({ ...paths, destinations })
    .map((step) => cage?.wrap(step) ?? step);
  let maxRssKiB: number | null = null;
  let fanout: FanoutDestination[] | null = null;
  try {
    const readBefore = await deviceRead?.() ?? null;
    const started = performance.now();
    for (const step of steps) {
      const result = await runStep(step, measureMemory);
      if (result.code !== 0) {
        const said = result.stderr.trim().split("\n").slice(-3).join(" | ");
        throw new Error(`${path.basename(step.program)} exited with ${result.code}: ${said}`);
      }
      if (result.maxRssKiB !== null) maxRssKiB = Math.max(maxRssKiB ?? 0, result.maxRssKiB);
      if (step.captureStdout) fanout = fanoutSummary(result.stdout);
    }
    const copied = performance.now();
    const readAfter = await deviceRead?.() ?? null;
    await sync();
    const ended = performance.now();
    return {
      seconds: (ended - started) / 1000,
      syncSeconds: (ended - copied) / 1000,
      deviceReadBytes: readBefore === null || readAfter === null ? null : readAfter - readBefore,
      maxRssKiB,
      fanout,
    };
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
}

/**
 * The file system that holds `folder`, in words for the report: its type and device (by
 * findmnt), and for ext4 whether it has a journal. Without one, ext4 does not reuse an inode
 * freed in the last minutes, and looks each one over before it skips it: every contender
 * then pays per file it creates for the files the runs before it deleted.
 */
async function describeFileSystem(folder: string): Promise<string> {
  const found = await firstLine("findmnt", ["-n", "-o", "FSTYPE,SOURCE,TARGET", "-T", folder]);
  const [type, source, target] = found.split(/\s+/);
  if (!type || !source) return "on a file system findmnt could not name";
  let words = `on ${type} (${source}, mounted at ${target})`;
  if (type === "ext4") {
    const journal = await Deno.readTextFile(`/sys/fs/ext4/${path.basename(source)}/journal_task`)
      .catch(() => null);
    if (journal?.trim() === "<none>") {
      words += ": ext4 without a journal, where a new file skips the inodes freed in the last" +
        " minutes (the earlier runs' files), a cost per file every contender pays";
    }
  }
  return words;
}

async function firstLine(program: string, args: string[]): Promise<string> {
  try {
    const output = await new Deno.Command(program, { args, stdin: "null", stderr: "null" })
      .output();
    return new TextDecoder().decode(output.stdout).split("\n")[0].replace(/\s+/g, " ").trim();
  } catch {
    return "unknown";
  }
}

const MiB = 1024 * 1024;

/** The median of `reads` ÷ `bytes`, and with several runs their range: "1.03 (1.02–1.68)". */
function readsCell(reads: number[], bytes: number): string {
  if (reads.length === 0) return "n/a";
  const ratio = (value: number) => (value / bytes).toFixed(2);
  const low = ratio(Math.min(...reads));
  const high = ratio(Math.max(...reads));
  return `${ratio(median(reads))}${reads.length > 1 && low !== high ? ` (${low}–${high})` : ""}`;
}

function report(
  options: Options,
  { scale, dataSet, checksums }: ScaledSet,
  cases: Case[],
  context: {
    date: Date;
    cachesDropped: boolean;
    measureMemory: boolean;
    skipped: string[];
    cpu: string;
    tools: string[];
    runsDir: string;
    /** What holds the destinations, in words. */
    destinationFileSystem: string;
  },
): string {
  const sourceMiB = dataSet.bytes / MiB;
  const lines = [
    `## fanout benchmark: ${options.set} set ×${scale}`,
    "",
    `- command: \`${commandLine(options)}\``,
    `- date: ${context.date.toISOString()}; CPUs: ${navigator.hardwareConcurrency} (${context.cpu}); ${Deno.build.os} ${Deno.build.arch}`,
    `- data: ${dataSet.files.length} files, ${sourceMiB.toFixed(1)} MiB in \`${dataSet.source}\` (${
      dataSet.generated ? "generated by this run" : "reused from an earlier run"
    }); destinations under \`${context.runsDir}\`, ${context.destinationFileSystem}`,
    `- page cache: ${
      context.cachesDropped
        ? "dropped before every run (`sync; echo 3 > /proc/sys/vm/drop_caches`): cold-cache figures"
        : "could NOT be dropped (needs root and a writable /proc): warm-cache figures"
    }`,
    `- runs: ${options.runs} per contender and destination count, round-robin`,
    ...(options.memoryLimitMiB === null ? [] : [
      `- memory: every command ran in a memory cgroup of ${options.memoryLimitMiB} MiB, its page cache included: a machine short of memory`,
    ]),
    `- tools: ${context.tools.join("; ")}`,
    "",
    "| contender | verified | destinations | median wall s | of which final sync s | MiB/s per destination | ratio to cp + sha256sum -c | disk reads ÷ data | peak RSS MiB | runs |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const baselineFor = (count: number) => {
    const base = cases.find((c) => c.contender.id === BASELINE && c.count === count);
    return base && base.runs.length > 0 ? median(base.runs.map((r) => r.seconds)) : null;
  };
  for (const item of cases) {
    const { contender, count, runs } = item;
    const head = `| ${contender.label} | ${contender.verified ? "yes" : "no"} | ${count}`;
    if (runs.length === 0) {
      lines.push(`${head} | failed | | | | | | 0 |`);
      continue;
    }
    const seconds = median(runs.map((r) => r.seconds));
    const base = baselineFor(count);
    const rss = runs.map((r) => r.maxRssKiB).filter((kib) => kib !== null);
    const reads = runs.map((r) => r.deviceReadBytes).filter((bytes) => bytes !== null);
    lines.push(
      [
        head,
        seconds.toFixed(2),
        median(runs.map((r) => r.syncSeconds)).toFixed(2),
        (sourceMiB / seconds).toFixed(1),
        base === null ? "n/a" : (seconds / base).toFixed(2),
        readsCell(reads, dataSet.bytes),
        rss.length > 0 ? (Math.max(...rss) / 1024).toFixed(1) : "n/a",
        `${runs.length}${item.failure ? " (then failed)" : ""} |`,
      ].join(" | "),
    );
  }
  lines.push(
    "",
    "- Wall time runs from the start of a contender's first command to the end of a `sync` after its last one (the sync is shown on its own).",
    "- With several destinations, cp, rsync and rclone copy to each in turn and then check each in turn; fanout takes all destinations in one command (`deno run --allow-read --allow-write --allow-ffi --allow-sys --allow-env --v8-flags=--optimize-for-size main.ts backup SRC DST... [--no-verify] --json`, default --workers 4), including Deno's start-up.",
    "- MiB/s per destination = source size ÷ median wall time (every destination receives the whole source).",
    "- Disk reads ÷ data = bytes read from the block device that holds the source (and the destinations' too, when they are on it) during the run, from /sys/dev/block/…/stat, ÷ the data set's size; median of the runs, and in brackets the least and the most of them. A cold copy reads the source once (1.00); fanout's read-back from disk adds one read of each copy (1 + destinations), while `sha256sum -c` and `rclone check` read theirs from the page cache. Without verification, the figure is fanout's source read amplification: near 1.00 with several destinations means the source was read from the device once.",
    "- Ratio = median wall time ÷ that of `cp -r` + `sha256sum -c` with the same number of destinations; below 1 is faster (n/a when that baseline was not run).",
  );
  if (checksums) {
    lines.push(
      `- ${
        checksums.seconds === null
          ? "The source's checksum file for `sha256sum -c` was reused from an earlier run; it is computed once per data set, outside any timing."
          : `The source's checksum file for \`sha256sum -c\` was computed once, outside any timing (${
            checksums.seconds.toFixed(1)
          } s).`
      }`,
    );
  }
  lines.push(
    "- `sha256sum -c`, `rclone check` run right after the copy and read it back from the page cache; fanout drops each copy from the cache before reading it back (its read-back source is listed below). `cp -r` + drop the page cache + `sha256sum -c` gives the same proof as fanout: it writes every copy to disk and empties the whole page cache (`sync; echo 3 > /proc/sys/vm/drop_caches`) before the check, so `sha256sum` reads the copies from the disk.",
    context.measureMemory
      ? "- Peak RSS: the largest max RSS (`/usr/bin/time -f %M`) of any one process of the contender in any run; fanout's covers Deno and all its workers (one process)."
      : "- Peak RSS: not measured, /usr/bin/time is not installed.",
  );
  for (const item of cases.filter((c) => c.runs.some((r) => r.fanout))) {
    const perDestination = Array.from(
      { length: item.count },
      (_, i) => median(item.runs.map((r) => r.fanout![i].elapsedMs)) / 1000,
    );
    const readBack = [...new Set(item.runs.flatMap((r) => r.fanout!.map((d) => d.readBack)))];
    lines.push(
      `- ${item.contender.id} ×${item.count}: per-destination \`elapsedMs\` of its summary (median) ${
        perDestination.map((s) => `${s.toFixed(2)} s`).join(", ")
      }; read-back source: ${readBack.join(", ")}.`,
    );
  }
  for (const item of cases.filter((c) => c.failure)) {
    lines.push(`- **${item.contender.id} ×${item.count} failed**: ${item.failure}`);
  }
  for (const line of context.skipped) lines.push(`- Skipped ${line}.`);
  return lines.join("\n");
}

/**
 * How each contender's median time grew from the smallest scale to each larger one, against
 * how much the files and the bytes grew: growth is linear where the time grew as much.
 */
function scalingReport(options: Options, sets: ScaledSet[], cases: Case[]): string {
  const [first, ...rest] = sets;
  const size = ({ scale, dataSet }: ScaledSet) =>
    `×${scale} = ${dataSet.files.length.toLocaleString("en-US")} files, ${
      (dataSet.bytes / MiB).toFixed(1)
    } MiB`;
  const lines = [
    `## Scaling: ${options.set} set, ${sets.map((set) => `×${set.scale}`).join(" and ")}`,
    "",
    `- data: ${sets.map(size).join("; ")}`,
    "",
    "| contender | destinations | from | to | files × | bytes × | time × | time × ÷ files × | time × ÷ bytes × |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const seconds = (item: Case | undefined) =>
    item && item.runs.length > 0 ? median(item.runs.map((r) => r.seconds)) : null;
  for (const set of rest) {
    const files = set.dataSet.files.length / first.dataSet.files.length;
    const bytes = set.dataSet.bytes / first.dataSet.bytes;
    for (const item of cases.filter((c) => c.set === set)) {
      const from = seconds(
        cases.find((c) =>
          c.set === first && c.contender === item.contender && c.count === item.count
        ),
      );
      const to = seconds(item);
      const head = `| ${item.contender.label} | ${item.count}`;
      if (from === null || to === null) {
        lines.push(
          `${head} | ${from?.toFixed(2) ?? "failed"} | ${to?.toFixed(2) ?? "failed"} | | | | | |`,
        );
        continue;
      }
      const time = to / from;
      lines.push(
        [
          head,
          `${from.toFixed(2)} s`,
          `${to.toFixed(2)} s`,
          files.toFixed(1),
          bytes.toFixed(1),
          time.toFixed(2),
          (time / files).toFixed(2),
          `${(time / bytes).toFixed(2)} |`,
        ].join(" | "),
      );
    }
  }
  lines.push(
    "",
    `- From and to: the median wall times at ×${first.scale} and at the larger scale, from the tables above (the same rounds).`,
    "- Growth is linear where time × equals the data's ×, that is where time × ÷ files × (or ÷ bytes ×) is 1.00; below 1 the time grew less than the data (a fixed cost, such as Deno's start-up, spread over more), above 1 more.",
  );
  return lines.join("\n");
}

async function main(args: string[]): Promise<number> {
  let options: Options;
  try {
    const parsed = parseOptions(args);
    if (parsed === "help") {
      console.log(HELP);
      return 0;
    }
    options = parsed;
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const date = new Date();
  const workDir = path.resolve(options.dir ?? path.join(REPO, ".test-tmp", "bench"));
  // A folder of its own under --dest-dir, which is removed at the end.
  const runsDir = options.destDir
    ? path.join(path.resolve(options.destDir), "fanout-bench-runs")
    : path.join(workDir, "runs");
  await Deno.mkdir(workDir, { recursive: true });
  if (options.suite === "independence") {
    const { scales: [scale], runs, slowFraction, slowOn, slowDir } = options;
    const command = commandLine(options);
    return await runIndependence(
      { scale, runs, slowFraction, slowOn, slowDir, workDir, command },
      log,
    );
  }
  await Deno.remove(runsDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(runsDir, { recursive: true });
  const destinationFileSystem = await describeFileSystem(runsDir);
  let cage: MemoryCage | null = null;
  if (options.memoryLimitMiB !== null) {
    const made = await memoryCage(options.memoryLimitMiB);
    if (typeof made === "string") {
      console.error(`bench: --memory-limit: ${made}`);
      return 2;
    }
    cage = made;
  }
  await using _cage = cage;

  const selected = CONTENDERS.filter((c) => options.only?.includes(c.id) ?? true);
  const contenders: Contender[] = [];
  const skipped: string[] = [];
  for (const contender of selected) {
    const missing = [];
    for (const tool of contender.tools) if (!await findProgram(tool)) missing.push(tool);
    if (contender.dropsCaches && !await dropCaches()) {
      skipped.push(`${contender.id}: the page cache cannot be dropped (needs root)`);
      log(`skipping ${contender.id}: the page cache cannot be dropped (needs root)`);
    } else if (missing.length > 0) {
      skipped.push(`${contender.id}: ${missing.join(", ")} not installed`);
      log(`skipping ${contender.id}: ${missing.join(", ")} not installed`);
    } else contenders.push(contender);
  }

  const needsChecksums = contenders.some((c) => c.tools.includes("sha256sum"));
  const sets: ScaledSet[] = [];
  for (const scale of options.scales) {
    const dataSet = await ensureDataSet(workDir, options.set, scale, log);
    sets.push({
      scale,
      dataSet,
      checksums: needsChecksums ? await ensureChecksums(dataSet) : null,
    });
  }
  const main = path.join(REPO, "main.ts");
  const measureMemory = await canMeasureMemory();
  const tools = [
    `Deno ${Deno.version.deno}`,
    ...await Promise.all(
      [...new Set(contenders.flatMap((c) => c.tools))].map((tool) =>
        firstLine(tool, ["--version"])
      ),
    ),
  ];
  if (contenders.some((c) => c.id.startsWith("fanout"))) {
    // Loads and caches fanout's modules once, so no timed run pays for it.
    const fanoutVersion = await firstLine(Deno.execPath(), [
      "run",
      "--allow-read",
      main,
      "--version",
    ]);
    tools.push(`fanout ${fanoutVersion}`);
  }

  // Every scale's data set is in the same work folder, on the same device.
  const deviceRead = await deviceReader(sets[0].dataSet.source);
  if (!deviceRead) log("the source's block device cannot be read from /sys: no disk-read figures");
  const cases: Case[] = sets.flatMap((set) =>
    options.destinations.flatMap((count) =>
      contenders.map((contender) => ({ contender, count, set, runs: [], failure: null }))
    )
  );
  const named = (item: Case) =>
    `${item.contender.id} ×${item.count}${sets.length > 1 ? ` at scale ${item.set.scale}` : ""}`;
  let cachesDropped = true;
  let cachesWarned = false;
  const total = cases.length * options.runs;
  let done = 0;
  for (let run = 0; run < options.runs; run++) {
    // Each round starts one case later, so no case always follows the same one.
    const order = cases.map((_, i) => cases[(i + run) % cases.length]);
    for (const item of order) {
      done++;
      if (item.failure) continue;
      if (!await dropCaches()) {
        cachesDropped = false;
        if (!cachesWarned) {
          log(
            "could not drop the page cache (needs root and a writable /proc): warm-cache figures",
          );
          cachesWarned = true;
        }
      }
      const runDir = path.join(
        runsDir,
        `${item.contender.id}-x${item.count}-scale${item.set.scale}-run${run + 1}`,
      );
      try {
        const result = await runOnce(
          item,
          runDir,
          {
            source: item.set.dataSet.source,
            checksums: item.set.checksums?.file ?? "",
            main,
          },
          measureMemory,
          deviceRead,
          cage,
        );
        item.runs.push(result);
        log(`[${done}/${total}] ${named(item)} run ${run + 1}: ${result.seconds.toFixed(2)} s`);
      } catch (error) {
        item.failure = (error as Error).message;
        log(`[${done}/${total}] ${named(item)} failed: ${item.failure}`);
      }
    }
  }
  await Deno.remove(runsDir, { recursive: true }).catch(() => {});

  const context = {
    date,
    cachesDropped,
    measureMemory,
    skipped,
    cpu: await cpuModel(),
    tools,
    runsDir,
    destinationFileSystem,
  };
  const reports = sets.map((set) =>
    report(options, set, cases.filter((c) => c.set === set), context)
  );
  if (sets.length > 1) reports.push(scalingReport(options, sets, cases));
  console.log(reports.join("\n\n"));
  return cases.some((c) => c.failure) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

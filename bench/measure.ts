/**
 * How the benchmark measures one run: each command runs as its own process, under
 * `/usr/bin/time -f %M` when that exists (its max RSS in KiB); the harness times the whole
 * sequence of commands with `performance.now()`, then a final `sync`, and drops the page
 * cache before each run when the machine lets it. Also the median of runs and the CPU model,
 * shared by the suites' reports.
 */
import { path } from "../src/deps.ts";

/** One command of a contender. */
export interface Step {
  program: string;
  args: string[];
  cwd?: string;
  /** Keep stdout (fanout's --json events); otherwise it goes to /dev/null. */
  captureStdout?: boolean;
}

export interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Max RSS in KiB, or null without /usr/bin/time. */
  maxRssKiB: number | null;
}

const TIME = "/usr/bin/time";

/** The full path of `program` found on PATH, or null. */
export async function findProgram(program: string): Promise<string | null> {
  if (program.includes("/")) return await isFile(program) ? program : null;
  for (const folder of (Deno.env.get("PATH") ?? "").split(":")) {
    const candidate = path.join(folder || ".", program);
    if (await isFile(candidate)) return candidate;
  }
  return null;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await Deno.stat(file)).isFile;
  } catch {
    return false;
  }
}

/** True when `/usr/bin/time` is there to measure max RSS. */
export function canMeasureMemory(): Promise<boolean> {
  return isFile(TIME);
}

/** Runs one step to its end, under `/usr/bin/time -f %M` when `measureMemory`. */
export async function runStep(step: Step, measureMemory: boolean): Promise<StepResult> {
  const rssFile = measureMemory ? await Deno.makeTempFile({ prefix: "fanout-bench-rss-" }) : null;
  try {
    const output = await new Deno.Command(rssFile ? TIME : step.program, {
      args: rssFile ? ["-f", "%M", "-o", rssFile, step.program, ...step.args] : step.args,
      cwd: step.cwd,
      stdin: "null",
      stdout: step.captureStdout ? "piped" : "null",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: step.captureStdout ? decoder.decode(output.stdout) : "",
      stderr: decoder.decode(output.stderr),
      maxRssKiB: rssFile ? lastNumber(await Deno.readTextFile(rssFile)) : null,
    };
  } finally {
    if (rssFile) await Deno.remove(rssFile);
  }
}

/** The last line of /usr/bin/time's output ("Command exited with …" may come first). */
function lastNumber(text: string): number | null {
  const value = Number(text.trim().split("\n").at(-1));
  return Number.isFinite(value) ? value : null;
}

/** Runs `sync`: writes every dirty page of the machine to disk. */
export async function sync(): Promise<void> {
  await new Deno.Command("sync", { stdin: "null", stdout: "null", stderr: "null" }).output();
}

/** `sync; echo 3 > /proc/sys/vm/drop_caches`; false when the cache could not be dropped. */
export async function dropCaches(): Promise<boolean> {
  await sync();
  try {
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "3\n");
    return true;
  } catch {
    return false;
  }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The CPU's model name from /proc/cpuinfo, or "unknown model". */
export async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown model";
  } catch {
    return "unknown model";
  }
}

/**
 * Reads the count of bytes read from the block device that holds `folder`, from
 * /sys/dev/block/MAJOR:MINOR/stat (sectors of 512 bytes); null where there is no such file
 * (not Linux, or a file system without a block device, such as tmpfs or overlay).
 *
 * @example
 * const read = await deviceReader("/data");
 * const before = await read?.();
 */
export async function deviceReader(folder: string): Promise<(() => Promise<number>) | null> {
  const dev = (await Deno.stat(folder)).dev;
  // Linux's dev_t: major in bits 8–19 and 32–43, minor in bits 0–7 and 20–31.
  const major = Number((BigInt(dev) >> 8n) & 0xfffn) | Number((BigInt(dev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(dev) & 0xffn) | Number((BigInt(dev) >> 12n) & ~0xffn);
  const file = `/sys/dev/block/${major}:${minor}/stat`;
  const read = async () => Number((await Deno.readTextFile(file)).trim().split(/\s+/)[2]) * 512;
  try {
    await read();
    return read;
  } catch {
    return null;
  }
}

/**
 * A memory cgroup that holds each command put in it, page cache included, to a limit: a
 * machine short of memory, where the page cache cannot keep what one destination read for
 * the next. Linux only, as root: the cgroup v2 memory controller at /sys/fs/cgroup, or v1's
 * at /sys/fs/cgroup/memory.
 */
export interface MemoryCage extends AsyncDisposable {
  /** `step`, run inside the cgroup. */
  wrap(step: Step): Step;
}

/** A cage of `limitMiB`, or the reason there cannot be one here. */
export async function memoryCage(limitMiB: number): Promise<MemoryCage | string> {
  const bytes = String(limitMiB * 1024 * 1024);
  const v2 = await Deno.readTextFile("/sys/fs/cgroup/cgroup.controllers").catch(() => "");
  let folder: string;
  try {
    if (v2.split(/\s+/).includes("memory")) {
      await Deno.writeTextFile("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
      folder = "/sys/fs/cgroup/fanout-bench";
      await Deno.mkdir(folder, { recursive: true });
      await Deno.writeTextFile(path.join(folder, "memory.max"), bytes);
      await Deno.writeTextFile(path.join(folder, "memory.swap.max"), "0").catch(() => {});
    } else {
      folder = "/sys/fs/cgroup/memory/fanout-bench";
      await Deno.mkdir(folder, { recursive: true });
      await Deno.writeTextFile(path.join(folder, "memory.limit_in_bytes"), bytes);
    }
  } catch (error) {
    return `no memory cgroup could be made (needs Linux and root): ${(error as Error).message}`;
  }
  return {
    wrap: (step) => ({
      ...step,
      program: "sh",
      args: [
        "-c",
        `echo $$ > '${folder}/cgroup.procs' && exec "$@"`,
        "sh",
        step.program,
        ...step.args,
      ],
    }),
    // Empty once its commands have ended.
    [Symbol.asyncDispose]: () => Deno.remove(folder).catch(() => {}),
  };
}

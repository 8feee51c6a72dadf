/**
 * Shared test helpers: real folders, real files and the real CLI as a subprocess.
 */
import { assert, fileURLToPath } from "./deps.ts";
import { path } from "../src/deps.ts";
import { PERMISSION_FLAGS, V8_FLAGS } from "../src/permissions.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = path.join(REPO, "main.ts");

/** The permissions a user gives fanout for a local backup (see README). */
export const FANOUT_PERMISSIONS: string[] = [...PERMISSION_FLAGS];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface FanoutOptions {
  cwd?: string;
  /** Deno permission flags; the README's by default. */
  permissions?: string[];
  /** Kill the run after this long (it then ends by SIGTERM, code 143). */
  timeoutMs?: number;
  /** Environment variables set on top of this process's. */
  env?: Record<string, string>;
}

/** The `deno run` arguments that start fanout with `args`, as the README runs it. */
export function fanoutArgs(args: string[], permissions = FANOUT_PERMISSIONS): string[] {
  return ["run", "--quiet", ...permissions, ...V8_FLAGS, MAIN, ...args];
}

function fanoutCommand(args: string[], options: FanoutOptions, pipe: boolean): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: fanoutArgs(args, options.permissions),
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: pipe ? "piped" : "null",
    env: { NO_COLOR: "1", ...options.env },
    signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
  });
}

/** Runs `deno run <permissions> main.ts ...args` and waits for it. */
export async function runFanout(args: string[], options: FanoutOptions = {}): Promise<Run> {
  const output = await fanoutCommand(args, options, true).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Starts fanout with `--json` among `args`; its stdout is read with `jsonEvents`. */
export function spawnFanout(args: string[], options: FanoutOptions = {}): Deno.ChildProcess {
  return fanoutCommand(args, options, true).spawn();
}

/** The events of a running `--json` child, each as soon as its line is complete. */
// deno-lint-ignore no-explicit-any
export async function* jsonEvents(child: Deno.ChildProcess): AsyncGenerator<any> {
  let pending = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) yield JSON.parse(line);
  }
}

/** Parses the NDJSON stdout of a `--json` run; every line must be a JSON object. */
// deno-lint-ignore no-explicit-any
export function events(run: Run): any[] {
  return run.stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Runs a program (an outside judge such as sha256sum or diff) and returns its output. */
export async function sh(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<Run> {
  const output = await new Deno.Command(command, { args, cwd: options.cwd, stdin: "null" })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Judges a backup by outside tools: `diff -r` finds `destination` the same as `source` (its
 * records aside), and `sha256sum -c` accepts every line of its `.fanout/SHA256SUMS`.
 */
export async function assertSameAndSummed(source: string, destination: string): Promise<void> {
  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, `diff -r ${destination}:\n${diff.stdout}${diff.stderr}`);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, `sha256sum -c in ${destination}:\n${check.stdout}${check.stderr}`);
}

/**
 * A fresh folder for one test, removed by the returned dispose. It lives under the
 * checkout's `.test-tmp` (on the same disk as the checkout, never a tmpfs), unless
 * FANOUT_TEST_TMP names another parent.
 */
export async function testFolder(): Promise<AsyncDisposable & { path: string }> {
  const parent = Deno.env.get("FANOUT_TEST_TMP") ?? path.join(REPO, ".test-tmp");
  await Deno.mkdir(parent, { recursive: true });
  const folder = await Deno.makeTempDir({ dir: parent, prefix: "t-" });
  return {
    path: folder,
    [Symbol.asyncDispose]: () => Deno.remove(folder, { recursive: true }),
  };
}

/** Writes `size` random bytes to `file`, creating its folder. */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  await Deno.mkdir(path.dirname(file), { recursive: true });
  using handle = await Deno.open(file, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(Math.min(size, 1 << 20));
  for (let left = size; left > 0;) {
    const n = Math.min(left, chunk.length);
    fillRandom(chunk.subarray(0, n));
    for (let written = 0; written < n;) written += await handle.write(chunk.subarray(written, n));
    left -= n;
  }
}

/** What a test knows of one entry of a tree. */
export interface TreeEntry {
  kind: "file" | "folder";
  size: number;
  mtimeMs: number;
  ino: number | null;
  ctimeMs: number;
}

/** Every entry below `root` by relative "/"-separated path, via lstat; `.fanout` optional. */
export async function listTree(
  root: string,
  options: { withRecords?: boolean } = {},
): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(rel === "" ? root : path.join(root, rel))) {
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (child === ".fanout" && !options.withRecords) continue;
      const info = await Deno.lstat(path.join(root, child));
      entries.set(child, {
        kind: info.isDirectory ? "folder" : "file",
        size: info.isDirectory ? 0 : info.size,
        mtimeMs: info.mtime?.getTime() ?? 0,
        ino: info.ino,
        ctimeMs: info.ctime?.getTime() ?? 0,
      });
      if (info.isDirectory) await walk(child);
    }
  };
  await walk("");
  return entries;
}

/**
 * A camera-card-like source: nested and empty folders, zero-byte files, a file of exactly
 * 1 MiB, multi-MiB files, names with spaces, accents in NFC and NFD, CJK. Returns the
 * number of files.
 */
export async function makeCardTree(root: string): Promise<number> {
  const files: [string, number][] = [
    ["DCIM/100CANON/IMG_0001.CR3", 3 * 1024 * 1024 + 17],
    ["DCIM/100CANON/IMG_0001.xmp", 2048],
    ["DCIM/100CANON/IMG_0002.JPG", 1024 * 1024],
    ["DCIM/100CANON/IMG_0002.xmp", 0],
    ["DCIM/101CANON/MVI_0003.MP4", 5 * 1024 * 1024 + 1],
    ["My Trip/photo 1.jpg", 300_000],
    ["My Trip/notes  with  spaces .txt", 12],
    ["caf\u00e9.txt", 5],
    ["cafe\u0301.txt", 6],
    ["\u5199\u771f/\u6771\u4eac.jpg", 70_000],
    ["empty-file", 0],
    ["deep/a/b/c/d/e/f/leaf.bin", 4096],
  ];
  for (const [rel, size] of files) await writeRandomFile(path.join(root, rel), size);
  for (const folder of ["empty", "DCIM/100CANON/empty nested/deeper"]) {
    await Deno.mkdir(path.join(root, folder), { recursive: true });
  }
  return files.length;
}

/** Files named like fanout's temp files (`.fanout-<16 hex>.tmp`) anywhere below `root`. */
export async function tempFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      const child = path.join(root, entry.name);
      if (entry.isDirectory) found.push(...await tempFiles(child));
      else if (/^\.fanout-[0-9a-f]{16}\.tmp$/.test(entry.name)) found.push(child);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

/** Flips one byte of `file` at `offset` in place, keeping its size and times: silent damage. */
export async function flipOneByte(file: string, offset: number): Promise<void> {
  const before = await Deno.lstat(file);
  using handle = await Deno.open(file, { read: true, write: true });
  const byte = new Uint8Array(1);
  await handle.seek(offset, Deno.SeekMode.Start);
  await handle.read(byte);
  byte[0] ^= 0xff;
  await handle.seek(offset, Deno.SeekMode.Start);
  await handle.write(byte);
  await handle.utime(before.atime!, before.mtime!);
}

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array {
  return fillRandom(new Uint8Array(size));
}

/** Fills `bytes` with random bytes, 64 KiB at a time (getRandomValues' limit); returns it. */
function fillRandom(bytes: Uint8Array): Uint8Array {
  for (let at = 0; at < bytes.length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  return bytes;
}

/**
 * Whether two byte arrays hold the same bytes; compared here: assert's diff of two long
 * arrays takes minutes.
 */
export function sameBytes(one: Uint8Array | null, other: Uint8Array): boolean {
  return one !== null && one.length === other.length && one.every((byte, i) => byte === other[i]);
}

/** The bytes this process has caused to be read from storage (all its threads; Linux). */
export async function storageReads(): Promise<number> {
  return Number(/read_bytes: (\d+)/.exec(await Deno.readTextFile("/proc/self/io"))![1]);
}

/** Whether strace is here and may trace a child (ptrace allowed). */
export function canTrace(): boolean {
  try {
    return new Deno.Command("strace", { args: ["-f", "-o", "/dev/null", "true"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/**
 * Runs fanout with `args` under strace with `options` (which calls, how shown), its log in
 * `log`, following every thread.
 */
export function traceFanout(log: string, options: string[], args: string[]): Promise<Run> {
  return sh("strace", ["-f", ...options, "-o", log, Deno.execPath(), ...fanoutArgs(args)]);
}

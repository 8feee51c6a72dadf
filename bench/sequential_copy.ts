/**
 * The design fanout replaces, as the baseline of `deno task bench --suite independence`: a
 * sequential per-file copy to several destinations. Each file in turn is copied to `fast`,
 * then to `slow`, and the next file starts only when both copies are done; at the end each
 * destination in turn (fast, then slow) is read back and checked, as a sequential tool does.
 *
 * `deno run --allow-read --allow-write --allow-ffi --allow-sys bench/sequential_copy.ts <source> <fast>
 * [<slow> --rate BYTES_PER_SECOND]`
 *
 * Every copy streams the source in 1 MiB chunks through SHA-256 (node:crypto) into a temp
 * file beside its target, fsyncs and renames it; the folders are fsynced before the
 * read-back, which drops each copy from the page cache first where it can (as fanout does)
 * and hashes it again. `--rate` throttles slow's writes and read-back with fanout's own
 * RateLimiter. Prints one JSON line, `{"files","bytes","fastMs","slowMs","readBack"}`: each
 * elapsed time runs from the start (before the source is walked) to the end of that
 * destination's read-back; `slowMs` is null without a slow destination. Exits 1 on a mismatch.
 */
import { parseArgs } from "../tests/deps.ts";
import { path } from "../src/deps.ts";
import { fsyncFolder } from "../src/copy/durable.ts";
import { writeFull } from "../src/copy/whole_buffer.ts";
import { RateLimiter } from "../src/queue/rate_limiter.ts";
import { openCacheDropper } from "../src/verify/cache_drop.ts";
import { CHUNK_SIZE, digestFile, sha256Hasher } from "../src/verify/hashers.ts";

/** One destination of the run and what it holds so far. */
interface Destination {
  root: string;
  limiter: RateLimiter | null;
  /** Relative path → SHA-256 of the bytes read from the source for this copy. */
  copies: Map<string, string>;
  /** Folders created or written into, whose entries must be fsynced. */
  touched: Set<string>;
}

/** Every file under `root`, relative and "/"-separated, in path order. */
async function walk(root: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(path.join(root, prefix))) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) files.push(...await walk(root, rel));
    else if (entry.isFile) files.push(rel);
  }
  return files.sort();
}

/** Copies one file into `destination` through a temp file; returns the bytes copied. */
async function copyFile(
  source: string,
  destination: Destination,
  rel: string,
  buffer: Uint8Array,
): Promise<number> {
  const target = path.join(destination.root, rel);
  const folder = path.dirname(target);
  if (!destination.touched.has(folder)) {
    await Deno.mkdir(folder, { recursive: true });
    destination.touched.add(folder);
  }
  const temp = path.join(folder, `.${path.basename(target)}.tmp`);
  const hasher = sha256Hasher();
  let bytes = 0;
  {
    using input = await Deno.open(path.join(source, rel), { read: true });
    using output = await Deno.open(temp, { write: true, create: true, truncate: true });
    for (let n = await input.read(buffer); n !== null; n = await input.read(buffer)) {
      const chunk = buffer.subarray(0, n);
      hasher.update(chunk);
      await destination.limiter?.take(n);
      await writeFull(output, chunk);
      bytes += n;
    }
    await output.sync();
  }
  await Deno.rename(temp, target);
  destination.copies.set(rel, hasher.digest());
  return bytes;
}

/** Flushes a destination's folders, reads every copy back and compares; returns the source. */
async function verify(destination: Destination, buffer: Uint8Array): Promise<string> {
  for (const folder of destination.touched) await fsyncFolder(folder);
  const dropper = await openCacheDropper(destination.root);
  let readBack = dropper.readBack.source;
  const pace = destination.limiter ? (n: number) => destination.limiter!.take(n) : undefined;
  for (const [rel, expected] of destination.copies) {
    const target = path.join(destination.root, rel);
    if (!dropper.drop(target)) readBack = "cache";
    const { digest } = await digestFile(target, buffer, sha256Hasher(), pace);
    if (digest !== expected) throw new Error(`${target}: the copy read back does not match`);
  }
  return readBack;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { rate: { type: "string" } },
  });
  const rate = Number(values.rate);
  const [source, fast, slow, ...rest] = positionals;
  if (!fast || rest.length > 0 || (slow !== undefined) !== (rate > 0)) {
    console.error(
      "usage: sequential_copy.ts <source> <fast> [<slow> --rate BYTES_PER_SECOND]",
    );
    return 2;
  }
  const started = performance.now();
  const destination = (root: string, limiter: RateLimiter | null): Destination => ({
    root,
    limiter,
    copies: new Map(),
    touched: new Set([path.dirname(root)]),
  });
  const destinations = [destination(fast, null)];
  if (slow !== undefined) destinations.push(destination(slow, new RateLimiter({ rate })));
  const buffer = new Uint8Array(CHUNK_SIZE);
  const files = await walk(source);
  let bytes = 0;
  for (const rel of files) {
    for (const d of destinations) bytes += await copyFile(source, d, rel, buffer);
  }
  const elapsed: number[] = [];
  const readBack: string[] = [];
  for (const d of destinations) {
    readBack.push(await verify(d, buffer));
    elapsed.push(Math.round(performance.now() - started));
  }
  console.log(JSON.stringify({
    files: files.length,
    bytes: bytes / destinations.length,
    fastMs: elapsed[0],
    slowMs: elapsed[1] ?? null,
    readBack,
  }));
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`sequential_copy: ${(error as Error).message}`);
    Deno.exit(1);
  }
}

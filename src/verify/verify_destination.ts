/**
 * `fanout verify <destination>`: re-reads every file the destination's manifest lists, from
 * disk where the page cache can be dropped, and compares its hash with the record, by the
 * record's own algorithm (SHA-256, xxh128 or BLAKE3). It reads only the destination; no
 * source is needed. With `--repair --source SRC` a missing, changed or unreadable copy is
 * copied again from the source, but only if the source still holds the recorded content (by
 * that algorithm), and read back like any copy.
 */
import { forEachConcurrently } from "../concurrency.ts";
import { DestinationLock } from "../coordinator/lock.ts";
import { copyFile } from "../copy/copy_strategy.ts";
import { fsyncFolder } from "../copy/durable.ts";
import { path } from "../deps.ts";
import { describeError, ExitCode, UsageError } from "../errors.ts";
import type { EventSink, VerifyStatus, VerifySummary } from "../coordinator/events.ts";
import type { ReadBack } from "../coordinator/messages.ts";
import { toNative } from "../relative_path.ts";
import { SafePaths } from "./safe_path.ts";
import { type CacheDropper, openCacheDropper } from "./cache_drop.ts";
import { CHUNK_SIZE, digestField, digestFile, type Hasher, HasherPool } from "./hashers.ts";
import { type ManifestEntry, manifestPath, readManifest, writeRecords } from "./manifest.ts";

export interface VerifySettings {
  /** The destination as the user gave it. */
  destination: string;
  /** Files read at once. */
  workers: number;
  /** Copy the files that fail from this source folder (already checked to be a folder). */
  repairFrom?: string;
}

/**
 * Verifies one destination against its manifest and returns the summary (also emitted).
 *
 * @example
 * const summary = await verifyDestination({ destination: "/nas/card", workers: 4 }, console.log);
 */
export async function verifyDestination(
  settings: VerifySettings,
  emit: EventSink,
  now: () => number = () => performance.now(),
): Promise<VerifySummary> {
  const start = now();
  const { destination } = settings;
  await checkIsDestination(destination);
  const records = await readManifest(destination);
  const entries = [...records.values()];
  const broken: ManifestEntry[] = [];
  const lock = settings.repairFrom
    ? await DestinationLock.acquire(
      destination,
      destination,
      (message) => emit({ type: "warning", destination, message }),
    )
    : null;
  const dropper = await openCacheDropper(destination);
  let readBack: ReadBack = dropper.readBack;
  const counts: Record<VerifyStatus, number> = {
    verified: 0,
    missing: 0,
    mismatch: 0,
    unreadable: 0,
    unsafe: 0,
    repaired: 0,
  };
  const safePaths = new SafePaths(destination);
  let bytes = 0;
  const buffers: Uint8Array[] = [];
  const hashers = new HasherPool();

  emit({ type: "phase", phase: "verify", state: "start", destination });
  await forEachConcurrently(entries, settings.workers, async (entry) => {
    const buffer = buffers.pop() ?? new Uint8Array(CHUNK_SIZE);
    const { status, error } = await hashers.lend(
      entry.hash,
      (hasher) =>
        checkEntry(destination, entry, { buffer, hasher }, (file) => {
          if (!dropper.drop(file) && readBack.source === "disk") {
            readBack = {
              source: "cache",
              reason: "the page cache could not be dropped for some files",
            };
          }
        }, safePaths),
    );
    buffers.push(buffer);
    const { path, size, hash, digest } = entry;
    if (settings.repairFrom && status !== "verified" && status !== "unsafe") {
      broken.push(entry);
    } else {
      counts[status]++;
      if (status === "verified") bytes += size;
    }
    emit({
      type: "file",
      destination,
      path,
      size,
      status,
      ...digestField(hash, digest),
      ...(error ? { error } : {}),
    });
  });
  emit({ type: "phase", phase: "verify", state: "end", destination });

  if (settings.repairFrom) {
    try {
      await repair(
        settings.repairFrom,
        destination,
        broken,
        records,
        counts,
        dropper,
        hashers,
        emit,
      );
    } finally {
      await lock?.release();
    }
    bytes += broken.reduce((sum, entry) => sum + entry.size, 0);
  }

  const clean = counts.verified + counts.repaired === entries.length;
  const summary: VerifySummary = {
    type: "summary",
    command: "verify",
    destination,
    files: entries.length,
    verified: counts.verified,
    missing: counts.missing,
    mismatched: counts.mismatch,
    unreadable: counts.unreadable,
    unsafe: counts.unsafe,
    repaired: counts.repaired,
    bytes,
    readBack,
    elapsedMs: Math.round(now() - start),
    exitCode: clean ? ExitCode.ok : ExitCode.failed,
  };
  emit(summary);
  return summary;
}

async function checkIsDestination(destination: string): Promise<void> {
  try {
    if (!(await Deno.stat(destination)).isDirectory) {
      throw new UsageError(`destination ${destination} is not a folder`);
    }
    await Deno.stat(manifestPath(destination));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `${destination} has no fanout records (${
          manifestPath(destination)
        } not found); give a folder that fanout backed up to`,
      );
    }
    throw new UsageError(`cannot read ${destination}: ${describeError(error)}`);
  }
}

/** A link copied with --links: it must still be a symlink to the recorded target. */
async function checkLink(
  file: string,
  target: string,
): Promise<{ status: VerifyStatus; error?: string }> {
  try {
    const now = await Deno.readLink(file);
    if (now === target) return { status: "verified" };
    return { status: "mismatch", error: `the link points to ${now}, recorded ${target}` };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { status: "missing", error: "the link is missing" };
    }
    return { status: "mismatch", error: `not a symlink any more (${describeError(error)})` };
  }
}

async function checkEntry(
  destination: string,
  entry: ManifestEntry,
  { buffer, hasher }: { buffer: Uint8Array; hasher: Hasher },
  dropCache: (file: string) => void,
  safePaths: SafePaths,
): Promise<{ status: VerifyStatus; error?: string }> {
  const unsafe = await safePaths.reason(entry.path);
  if (unsafe) return { status: "unsafe", error: unsafe };
  const file = toNative(destination, entry.path);
  if (entry.link !== undefined) return await checkLink(file, entry.link);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return { status: "missing", error: "the file is missing" };
    }
    return { status: "unreadable", error: describeError(error) };
  }
  if (!info.isFile) return { status: "mismatch", error: "not a regular file" };
  if (info.size !== entry.size) {
    return { status: "mismatch", error: `size is ${info.size} bytes, recorded ${entry.size}` };
  }
  try {
    dropCache(file);
    const { digest } = await digestFile(file, buffer, hasher);
    if (digest === entry.digest) return { status: "verified" };
    return { status: "mismatch", error: `content differs: ${entry.hash} ${digest}` };
  } catch (error) {
    return { status: "unreadable", error: describeError(error) };
  }
}

/**
 * Copies each broken entry again from `source` (which must still hold the recorded content),
 * reads it back, counts it as repaired or as still broken, and updates the records.
 */
async function repair(
  source: string,
  destination: string,
  broken: ManifestEntry[],
  records: Map<string, ManifestEntry>,
  counts: Record<VerifyStatus, number>,
  dropper: CacheDropper,
  hashers: HasherPool,
  emit: EventSink,
): Promise<void> {
  emit({ type: "phase", phase: "copy", state: "start", destination });
  const buffer = new Uint8Array(CHUNK_SIZE);
  for (const entry of broken) {
    const { path: rel, size, hash, digest } = entry;
    const recorded = digestField(hash, digest);
    const target = toNative(destination, rel);
    try {
      if (entry.link !== undefined) throw new Error("a link is made again by the next backup");
      const from = toNative(source, rel);
      const info = await Deno.lstat(from).catch(() => null);
      if (!info?.isFile) throw new Error(`${rel} is not a file in ${source}`);
      const file = {
        path: rel,
        size: info.size,
        mtimeMs: info.mtime?.getTime() ?? 0,
        mode: info.mode,
      };
      await Deno.mkdir(path.dirname(target), { recursive: true });
      // The source must still hold what was recorded, by the record's own algorithm.
      await hashers.lend(
        hash,
        (hasher) => copyFile(from, file, target, buffer, hasher, { expectedDigest: digest }),
      );
      await fsyncFolder(path.dirname(target));
      dropper.drop(target);
      const readBack = await hashers.lend(hash, (hasher) => digestFile(target, buffer, hasher));
      if (readBack.digest !== digest) throw new Error("the new copy does not read back right");
      records.set(rel, { ...entry, mtimeMs: file.mtimeMs, verifiedAt: new Date().toISOString() });
      counts.repaired++;
      emit({ type: "file", destination, path: rel, size, status: "repaired", ...recorded });
    } catch (error) {
      counts.mismatch++;
      emit({
        type: "file",
        destination,
        path: rel,
        size,
        status: "mismatch",
        ...recorded,
        error: `not repaired: ${describeError(error)}`,
      });
    }
  }
  if (counts.repaired > 0) await writeRecords(destination, records.values());
  emit({ type: "phase", phase: "copy", state: "end", destination });
}

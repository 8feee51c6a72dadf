/**
 * With several destinations the source is read once: the kernel's own record of every read
 * system call (strace) says how many bytes fanout read from the source's files, and that
 * figure must stay near one copy of the data, not one per destination, and be exactly what
 * the summary says was not shared. The copies are judged by `diff -r` and `sha256sum -c`.
 * Skipped where strace is missing or may not trace.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  assertSameAndSummed,
  canTrace,
  testFolder,
  traceFanout,
  writeRandomFile,
} from "../helpers.ts";

const MiB = 2 ** 20;

const traceable = canTrace();
const needsStrace = traceable ? "" : " (skipped: strace is not installed or may not trace)";

/**
 * The bytes read from files under `root`, from an strace log of `read` calls with their file
 * descriptors' paths (-y). A call another thread interrupted in the log is finished on a later
 * line of the same thread ("<... read resumed>").
 */
function bytesReadUnder(log: string, root: string): number {
  const pending = new Set<string>();
  let total = 0;
  for (const line of log.split("\n")) {
    const thread = line.split(" ", 1)[0];
    const call = line.match(/ read\(\d+<([^>]*)>/);
    if (call && !call[1].startsWith(root + "/")) continue;
    if (call && line.endsWith("<unfinished ...>")) {
      pending.add(thread);
      continue;
    }
    if (!call && !(line.includes("<... read resumed>") && pending.delete(thread))) continue;
    const result = line.match(/\) += (\d+)$/);
    if (result) total += Number(result[1]);
  }
  return total;
}

Deno.test({
  name: `three destinations read the source once between them, by strace's count${needsStrace}`,
  ignore: !traceable,
  fn: async () => {
    await using folder = await testFolder();
    const source = path.join(folder.path, "card");
    // Sidecars and photos read whole, clips in many chunks.
    const sizes = [
      ...Array.from({ length: 120 }, (_, i) => 1000 + i * 300),
      ...Array.from({ length: 12 }, (_, i) => MiB + i * 100_000),
      ...[6 * MiB + 5, 9 * MiB],
    ];
    for (const [i, size] of sizes.entries()) {
      await writeRandomFile(path.join(source, `DCIM/IMG_${String(i).padStart(4, "0")}`), size);
    }
    const data = sizes.reduce((sum, size) => sum + size, 0);
    const destinations = ["ssd", "usb", "nas"].map((name) => path.join(folder.path, name));
    const log = path.join(folder.path, "strace.log");

    const run = await traceFanout(log, ["-y", "-s", "0", "-e", "trace=read"], [
      "backup",
      "--json",
      source,
      ...destinations,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    assert.equal(summary.exitCode, 0);

    const read = bytesReadUnder(await Deno.readTextFile(log), source);
    // Each destination alone would read it all: 3 × the data.
    assert.ok(read <= 1.25 * data, `read ${read} bytes of a ${data}-byte source`);
    const notShared = summary.destinations.reduce(
      (sum: number, d: { bytes: number; sharedBytes: number }) => sum + d.bytes - d.sharedBytes,
      0,
    );
    assert.equal(notShared, read, "the summary's shared bytes are what strace did not see read");
    assert.match(run.stderr, /^$/, "--json: nothing on stderr");

    for (const destination of destinations) await assertSameAndSummed(source, destination);
  },
});

/**
 * The Verify reads each small copy from the disk with O_DIRECT (DirectReads), with a
 * destination for every CPU as with one destination (which has a SourceReader beside it when
 * there is a CPU to spare): the kernel's record of the run's `openat` calls (strace) shows
 * each copy opened so, once, and the copies are judged by `diff -r` and `sha256sum -c`.
 * Skipped where strace is missing or may not trace, and off Linux.
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

const ready = Deno.build.os === "linux" && canTrace();
const skipped = ready ? "" : " (skipped: not Linux, or strace is missing or may not trace)";

const counts = [
  ["a destination for every CPU", Math.max(2, navigator.hardwareConcurrency)],
  ["one destination", 1],
] as const;

for (const [who, count] of counts) {
  Deno.test({
    name: `${who} reads its small copies back with O_DIRECT${skipped}`,
    ignore: !ready,
    fn: async () => {
      await using folder = await testFolder();
      const source = path.join(folder.path, "card");
      const sizes = Array.from({ length: 60 }, (_, i) => i * 1000);
      for (const [i, size] of sizes.entries()) {
        await writeRandomFile(path.join(source, `DCIM/IMG_${String(i).padStart(4, "0")}`), size);
      }
      const destinations = Array.from({ length: count }, (_, i) => path.join(folder.path, `d${i}`));
      const log = path.join(folder.path, "strace.log");

      const run = await traceFanout(log, ["-e", "trace=openat"], [
        "backup",
        "--json",
        source,
        ...destinations,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const opens = (await Deno.readTextFile(log)).split("\n").filter((line) =>
        line.includes("O_DIRECT") && !line.includes("= -1")
      );
      for (const destination of destinations) {
        await assertSameAndSummed(source, destination);
        const direct = new Set(
          opens.map((line) => line.match(/"([^"]+)"/)?.[1]).filter((file) =>
            file?.startsWith(destination + "/DCIM/")
          ),
        );
        assert.equal(direct.size, sizes.length, `copies under ${destination} opened O_DIRECT`);
      }
    },
  });
}

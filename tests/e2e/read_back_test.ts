/**
 * Verification reads from the disk, not the page cache: the kernel's own count of bytes a
 * process read from storage (/proc/<pid>/io read_bytes, which includes reaped children) is
 * at least the bytes verified. A control run without the cache drop shows the count would
 * stay low otherwise, so the check can fail.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  FANOUT_PERMISSIONS,
  fanoutArgs,
  jsonEvents,
  runFanout,
  sh,
  spawnFanout,
  testFolder,
  writeRandomFile,
} from "../helpers.ts";

const DATA = 48 * 1024 * 1024;

/** Runs fanout under a shell and returns the storage bytes read by it and its children. */
async function readBytesOf(args: string[], permissions = FANOUT_PERMISSIONS) {
  const command = [Deno.execPath(), ...fanoutArgs(args, permissions)]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const output = await new Deno.Command("sh", {
    args: ["-c", `${command} >/dev/null; code=$?; grep '^read_bytes' /proc/$$/io; exit $code`],
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  return { code: output.code, readBytes: Number(/read_bytes: (\d+)/.exec(text)![1]) };
}

Deno.test({
  name: "backup and verify read the copies back from the disk",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using folder = await testFolder();
    const source = path.join(folder.path, "card");
    await writeRandomFile(path.join(source, "a.bin"), DATA / 2);
    await writeRandomFile(path.join(source, "sub", "b.bin"), DATA / 2);
    const destinations = [path.join(folder.path, "one"), path.join(folder.path, "two")];

    const unverified = await readBytesOf(["backup", "--no-verify", source, destinations[0]]);
    assert.equal(unverified.code, 0);
    assert.ok(unverified.readBytes < DATA / 4, `control: ${unverified.readBytes} bytes read`);
    await Deno.remove(destinations[0], { recursive: true });

    const backup = await readBytesOf(["backup", source, ...destinations]);
    assert.equal(backup.code, 0);
    assert.ok(backup.readBytes >= 2 * DATA, `backup read ${backup.readBytes} of ${2 * DATA}`);

    // The copies are in the page cache now: the backup just read them back.
    const verify = await readBytesOf(["verify", destinations[1]]);
    assert.equal(verify.code, 0);
    assert.ok(verify.readBytes >= DATA, `verify read ${verify.readBytes} of ${DATA}`);

    const cached = await readBytesOf(["verify", destinations[1]], ["--allow-read"]);
    assert.equal(cached.code, 0);
    assert.ok(cached.readBytes < DATA / 4, `control: ${cached.readBytes} bytes read`);
  },
});

Deno.test({
  name: "small files too are read back from the disk",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using folder = await testFolder();
    const source = path.join(folder.path, "card");
    // Under 64 KiB each: read whole where the destination commits in batches; with a CPU to
    // spare, read back by the SourceReader's thread, whose reads count as the process's.
    const count = DATA / (48 * 1024) / 2;
    for (let k = 0; k < count; k++) {
      await writeRandomFile(path.join(source, `d${k % 7}`, `IMG_${k}.XMP`), 48 * 1024);
    }
    const destination = path.join(folder.path, "one");
    const unverified = await readBytesOf(["backup", "--no-verify", source, destination]);
    assert.equal(unverified.code, 0);
    assert.ok(unverified.readBytes < DATA / 8, `control: ${unverified.readBytes} bytes read`);
    await Deno.remove(destination, { recursive: true });

    const backup = await readBytesOf(["backup", source, destination]);
    assert.equal(backup.code, 0);
    assert.ok(backup.readBytes >= DATA / 2, `backup read ${backup.readBytes} of ${DATA / 2}`);
  },
});

// With as many destinations as CPUs, small files are read ahead (the source, and each copy
// after its pages are dropped) and then read in plain calls: the same proof.
const CPUS = navigator.hardwareConcurrency;

Deno.test({
  name: `small files to as many destinations as CPUs (${CPUS}) are read back from the disk`,
  ignore: Deno.build.os !== "linux" || CPUS > 4,
  fn: async () => {
    await using folder = await testFolder();
    const source = path.join(folder.path, "card");
    const count = DATA / (48 * 1024) / 4;
    for (let k = 0; k < count; k++) {
      await writeRandomFile(path.join(source, `d${k % 7}`, `IMG_${k}.XMP`), 48 * 1024);
    }
    const destinations = Array.from(
      { length: Math.max(2, CPUS) },
      (_, k) => path.join(folder.path, `copy${k}`),
    );
    const backup = await readBytesOf(["backup", source, ...destinations]);
    assert.equal(backup.code, 0);
    const copied = destinations.length * DATA / 4;
    assert.ok(backup.readBytes >= copied, `backup read ${backup.readBytes} of ${copied}`);
    for (const destination of destinations) {
      const diff = await new Deno.Command("diff", {
        args: ["-r", "--exclude=.fanout", source, destination],
      }).output();
      assert.equal(diff.code, 0, new TextDecoder().decode(diff.stdout));
    }
  },
});

Deno.test("without --allow-ffi or --allow-sys the output says the check read from the page cache", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await writeRandomFile(path.join(source, "a.bin"), 1000);
  const cases: [string[], RegExp][] = [
    [["--allow-read", "--allow-write", "--allow-sys"], /--allow-ffi was not granted/],
    [["--allow-read", "--allow-write", "--allow-ffi"], /--allow-sys was not granted/],
  ];
  for (const [i, [permissions, reason]] of cases.entries()) {
    const run = await runFanout(["backup", source, path.join(folder.path, `d${i}`)], {
      permissions,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /page cache, not the disk/);
    assert.match(run.stderr, reason);
    assert.doesNotMatch(run.stderr, /read back from disk/);
  }
});

Deno.test("a small copy changed on the disk before its read-back is caught and copied again", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const names = Array.from({ length: 100 }, (_, k) => `IMG_${String(k).padStart(3, "0")}.XMP`);
  for (const name of names) await writeRandomFile(path.join(source, name), 20 * 1024);
  const destination = path.join(folder.path, "ssd");
  // Held to 1 MB/s, so that the Verify (in path order) takes about two seconds, and the copy
  // near its end is changed long before its read-back is asked for (with a CPU to spare, of
  // the SourceReader's thread, 32 files ahead).
  const victim = path.join(destination, names[90]);
  const child = spawnFanout(["backup", "--json", "--limit", "1=1M", source, destination]);
  // deno-lint-ignore no-explicit-any
  const events: any[] = [];
  for await (const event of jsonEvents(child)) {
    events.push(event);
    if (event.type === "phase" && event.phase === "verify" && event.state === "start") {
      const bytes = await Deno.readFile(victim);
      bytes[100] ^= 0xff;
      using file = await Deno.open(victim, { write: true });
      await file.write(bytes);
      await file.sync();
    }
  }
  assert.equal((await child.status).code, 0);
  const verified = events.filter((e) => e.type === "file" && e.status === "verified");
  assert.equal(verified.length, names.length);
  const again = verified.filter((e) => e.attempts > 1).map((e) => e.path);
  assert.deepEqual(again, [names[90]], "only the changed copy was copied again");
  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, diff.stdout);
  const check = await sh("sha256sum", ["-c", "--quiet", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout);
});

Deno.test("with a destination for every CPU, a small copy changed before its read-back is caught and copied again", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  // Small files read ahead from the disk and read back in plain calls (DestinationRun's
  // #readBackNow), the changed copy last in the Verify's order, long after it starts.
  const names = Array.from({ length: 3000 }, (_, k) => `m${k % 30}/f${String(k).padStart(4, "0")}`);
  await Promise.all(names.map((name) => writeRandomFile(path.join(source, name), 1 + k(name))));
  const count = Math.min(4, Math.max(2, navigator.hardwareConcurrency));
  const destinations = Array.from({ length: count }, (_, i) => path.join(folder.path, `d${i}`));
  // The last copy changed on the first destination, and grown by a byte on the second.
  const victims = destinations.slice(0, 2).map((d) => path.join(d, names.at(-1)!));
  const child = spawnFanout(["backup", "--json", source, ...destinations]);
  // deno-lint-ignore no-explicit-any
  const events: any[] = [];
  for await (const event of jsonEvents(child)) {
    events.push(event);
    if (event.type === "phase" && event.phase === "verify" && event.state === "start") {
      const changed = destinations.indexOf(event.destination);
      if (changed === 0) {
        const bytes = await Deno.readFile(victims[0]);
        bytes[0] ^= 0xff;
        await Deno.writeFile(victims[0], bytes);
      } else if (changed === 1) {
        await Deno.writeFile(victims[1], new Uint8Array([7]), { append: true });
      }
    }
  }
  assert.equal((await child.status).code, 0);
  for (const destination of destinations) {
    const verified = events.filter((e) =>
      e.type === "file" && e.status === "verified" && e.destination === destination
    );
    assert.equal(verified.length, names.length);
    const again = verified.filter((e) => e.attempts > 1).map((e) => e.path);
    const changed = destinations.indexOf(destination) < 2 ? [names.at(-1)] : [];
    assert.deepEqual(again, changed, `only the changed copy was copied again to ${destination}`);
  }
  for (const destination of destinations) {
    const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
    assert.equal(diff.code, 0, diff.stdout);
    const check = await sh("sha256sum", ["-c", "--quiet", ".fanout/SHA256SUMS"], {
      cwd: destination,
    });
    assert.equal(check.code, 0, check.stdout);
  }
});

/** A size from 1 to 4 KiB for `name`, the same each time. */
function k(name: string): number {
  let sum = 0;
  for (const c of name) sum = (sum * 31 + c.charCodeAt(0)) % 4096;
  return sum;
}

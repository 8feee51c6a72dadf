/**
 * One run per destination: a second run is refused with exit 3 and a message naming the
 * first; the lock of a run that is gone is taken over with a warning; a lock from another
 * host is respected.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import {
  jsonEvents,
  type Run,
  runFanout,
  spawnFanout,
  testFolder,
  writeRandomFile,
} from "../helpers.ts";

async function card(folder: string): Promise<string> {
  const source = path.join(folder, "card");
  for (let i = 0; i < 4; i++) await writeRandomFile(path.join(source, `IMG_${i}.CR3`), 2 ** 20);
  return source;
}

async function writeLock(destination: string, owner: object): Promise<string> {
  const file = path.join(destination, ".fanout", "lock");
  await Deno.mkdir(path.dirname(file), { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify(owner));
  return file;
}

Deno.test("a second run on a destination in use is refused with exit 3, naming the first", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destination = path.join(folder.path, "nas");
  const first = spawnFanout(["backup", "--json", "--bwlimit", "2M", source, destination]);
  let second: Run | null = null;
  // Read the first run's events to its end: closing its output early would end it.
  for await (const event of jsonEvents(first)) {
    if (!second && event.type === "phase" && event.phase === "copy") {
      second = await runFanout(["backup", source, destination]);
    }
  }
  assert.ok(second);
  assert.equal(second.code, 3, second.stderr);
  assert.equal(second.stderr.trimEnd().split("\n").length, 1, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`in use by another fanout run \\(process ${first.pid} on `),
  );
  assert.equal((await first.status).code, 0, "the first run is unharmed");
  await assert.rejects(Deno.stat(path.join(destination, ".fanout", "lock")), Deno.errors.NotFound);
});

Deno.test("the lock of a run that is gone from this host is taken over with a warning", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destination = path.join(folder.path, "nas");
  // A pid above the kernel's limit never runs.
  await writeLock(destination, {
    pid: 2 ** 22 + 1,
    host: Deno.hostname(),
    startedAt: "2026-01-01T00:00:00Z",
  });
  const run = await runFanout(["backup", source, destination]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /took over the lock of a run that is gone \(process 4194305 on /);
  await assert.rejects(Deno.stat(path.join(destination, ".fanout", "lock")), Deno.errors.NotFound);
});

Deno.test("a lock held from another host is respected: exit 3, nothing copied", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path);
  const destination = path.join(folder.path, "nas");
  const lock = await writeLock(destination, {
    pid: 1,
    host: "studio-mac",
    startedAt: "2026-11-28T22:00:00Z",
  });
  const run = await runFanout(["backup", source, destination]);
  assert.equal(run.code, 3);
  assert.match(
    run.stderr,
    /in use by another fanout run \(process 1 on studio-mac, started 2026-11-28T22:00:00Z\)/,
  );
  assert.deepEqual([...Deno.readDirSync(destination)].map((e) => e.name), [".fanout"]);
  assert.ok(await Deno.stat(lock), "the other host's lock stays");
});

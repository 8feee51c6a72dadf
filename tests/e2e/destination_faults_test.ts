/**
 * A destination that fails fails alone: too small from the start, full mid-run, deleted or
 * made read-only mid-run. Each ends with its reason, exit 1, no temp file left behind, and
 * the other destination complete and judged clean by `diff -r`. Full and read-only disks
 * are real: a small tmpfs, mounted for the test (skipped where mounting is not permitted).
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { jsonEvents, sh, spawnFanout, tempFiles, testFolder, writeRandomFile } from "../helpers.ts";

const MiB = 2 ** 20;

/** Whether this machine lets the tests mount a tmpfs (root, and a kernel that allows it). */
function canMount(): boolean {
  const probe = Deno.makeTempDirSync();
  try {
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe],
    })
      .outputSync();
    if (!mount.success) return false;
    new Deno.Command("umount", { args: [probe] }).outputSync();
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(probe);
  }
}
const mountable = canMount();
const needsMount = mountable ? "" : " (skipped: mounting a tmpfs is not permitted here)";

/** A tmpfs of `size` mounted at a fresh folder, unmounted on dispose. */
async function tmpfs(parent: string, size: string): Promise<AsyncDisposable & { path: string }> {
  const mountPoint = await Deno.makeTempDir({ dir: parent, prefix: "tmpfs-" });
  const mount = await sh("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mountPoint]);
  assert.equal(mount.code, 0, mount.stderr);
  return {
    path: mountPoint,
    [Symbol.asyncDispose]: async () => void await sh("umount", ["-l", mountPoint]),
  };
}

/** `mount args`, tried up to 20 times, 50 ms apart, while it fails. */
async function mounted(args: string[]): Promise<void> {
  let mount = await sh("mount", args);
  for (let tries = 1; mount.code !== 0 && tries < 20; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    mount = await sh("mount", args);
  }
  assert.equal(mount.code, 0, mount.stderr);
}

/** Unmounts whatever is mounted at `folder`, one mount over another too. */
async function unmounted(folder: string): Promise<void> {
  for (let tries = 0; tries < 10; tries++) {
    if ((await sh("mountpoint", ["-q", folder])).code !== 0) return;
    await sh("umount", ["-l", folder]);
  }
}

async function card(folder: string, files: number, size = 2 * MiB): Promise<string> {
  const source = path.join(folder, "card");
  for (let i = 0; i < files; i++) await writeRandomFile(path.join(source, `IMG_${i}.CR3`), size);
  return source;
}

/**
 * Runs a backup of `source` to `good` and `bad` (the second, limited so that it is still
 * copying), calls `harm` once `bad`'s copying has started, and returns every event.
 */
async function backupWhile(
  source: string,
  good: string,
  bad: string,
  harm: () => Promise<void>,
) {
  const child = spawnFanout(["backup", "--json", "--limit", "2=2M", source, good, bad]);
  // deno-lint-ignore no-explicit-any
  const all: any[] = [];
  let harmed = false;
  for await (const event of jsonEvents(child)) {
    all.push(event);
    if (!harmed && event.type === "phase" && event.destination === bad && event.phase === "copy") {
      harmed = true;
      await harm();
    }
  }
  return { code: (await child.status).code, events: all };
}

async function assertClean(source: string, destination: string): Promise<void> {
  const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
}

Deno.test({
  name:
    `a destination too small for the backup is refused with the numbers; the other completes${needsMount}`,
  ignore: !mountable,
  fn: async () => {
    await using folder = await testFolder();
    await using small = await tmpfs(folder.path, "4m");
    const source = await card(folder.path, 3);
    const good = path.join(folder.path, "ssd");
    const bad = path.join(small.path, "card");
    const child = spawnFanout(["backup", "--json", source, good, bad]);
    // deno-lint-ignore no-explicit-any
    const all: any[] = [];
    for await (const event of jsonEvents(child)) all.push(event);
    assert.equal((await child.status).code, 1);
    const error = all.find((e) => e.type === "error" && e.destination === bad);
    assert.match(
      error.message,
      /not enough free space: the copies need 6\.00 MiB \(6291456 bytes\), the destination has .* free/,
    );
    const [goodSummary, badSummary] = all.at(-1).destinations;
    assert.deepEqual([goodSummary.status, goodSummary.verified], ["ok", 3]);
    assert.deepEqual([badSummary.status, badSummary.copied], ["failed", 0]);
    assert.deepEqual(
      [...Deno.readDirSync(bad)].map((e) => e.name).filter((n) => n !== ".fanout"),
      [],
    );
    await assertClean(source, good);
  },
});

Deno.test({
  name:
    `a disk that fills up mid-run stops that destination with 'the disk is full'; the other completes${needsMount}`,
  ignore: !mountable,
  fn: async () => {
    await using folder = await testFolder();
    await using small = await tmpfs(folder.path, "10m");
    const source = await card(folder.path, 3);
    const good = path.join(folder.path, "ssd");
    const bad = path.join(small.path, "card");
    const run = await backupWhile(source, good, bad, async () => {
      // Something else takes the space the check saw free.
      await sh("dd", ["if=/dev/zero", `of=${path.join(small.path, "filler")}`, "bs=1M"]);
    });
    assert.equal(run.code, 1);
    const error = run.events.find((e) => e.type === "error" && e.destination === bad);
    assert.match(error.message, /the disk is full: No space left on device/);
    assert.equal(run.events.at(-1).destinations[1].status, "failed");
    assert.deepEqual(
      await tempFiles(bad),
      [],
      "the temp file of the copy that hit the full disk is gone",
    );
    await assertClean(source, good);
  },
});

Deno.test({
  name:
    `a destination made read-only mid-run fails with that reason; the other completes${needsMount}`,
  ignore: !mountable,
  fn: async () => {
    await using folder = await testFolder();
    const source = await card(folder.path, 3);
    const good = path.join(folder.path, "ssd");
    const bad = path.join(folder.path, "nas");
    // A read-only view of the destination, made aside where nothing writes, then bound over
    // the destination mid-run in one mount call: files open for writing stay writable, but
    // nothing new can be made or renamed there. Making the view read-only in place would be
    // refused as busy by then (fanout writes through it), and `mount --bind -o ro` (util-linux
    // 2.38) is a bind and then that remount: when the second failed, the first stayed.
    const view = path.join(folder.path, "nas-read-only");
    await Deno.mkdir(bad);
    await Deno.mkdir(view);
    await mounted(["--bind", bad, view]);
    try {
      await mounted(["-o", "remount,bind,ro", view]);
      const run = await backupWhile(source, good, bad, async () => {
        // Now and then the kernel calls the folder busy for a moment: a failed bind leaves
        // nothing behind, so it is tried again.
        await mounted(["--bind", view, bad]);
      });
      assert.equal(run.code, 1);
      const error = run.events.find((e) => e.type === "error" && e.destination === bad);
      assert.match(error.message, /the destination is read-only/);
      await assertClean(source, good);
    } finally {
      // Every mount made here, so that the test folder can be removed.
      await unmounted(bad);
      await unmounted(view);
    }
  },
});

Deno.test("a destination folder deleted mid-run fails with that reason; the other completes", async () => {
  await using folder = await testFolder();
  const source = await card(folder.path, 3);
  const good = path.join(folder.path, "ssd");
  const bad = path.join(folder.path, "nas");
  const run = await backupWhile(source, good, bad, async () => {
    // Moved away in one step, as an unplugged drive goes: a recursive delete races with
    // fanout's own writes there and can fail with "Directory not empty".
    await Deno.rename(bad, `${bad}.gone`);
  });
  assert.equal(run.code, 1);
  const error = run.events.find((e) => e.type === "error" && e.destination === bad);
  assert.match(error.message, /the destination folder is gone \(unmounted or deleted\?\)/);
  const [goodSummary, badSummary] = run.events.at(-1).destinations;
  assert.deepEqual([goodSummary.status, badSummary.status], ["ok", "failed"]);
  await assertClean(source, good);
});

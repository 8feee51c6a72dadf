/**
 * The whole path through the real CLI: a card-like tree backed up to three destinations,
 * judged by `diff -r` and `sha256sum -c` (GNU coreutils), with mtimes carried over; an
 * unchanged rerun that rewrites nothing.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { events, listTree, makeCardTree, runFanout, sh, testFolder } from "../helpers.ts";

Deno.test("a backup to three destinations is identical to the source, by diff -r and sha256sum -c", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const fileCount = await makeCardTree(source);
  const destinations = ["ssd", "usb", "nas"].map((name) => path.join(folder.path, name));

  const run = await runFanout(["backup", source, ...destinations]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "", "human text goes to stderr only");
  assert.match(run.stderr, /read back from disk/);

  const sourceTree = await listTree(source);
  for (const destination of destinations) {
    const diff = await sh("diff", ["-r", "--exclude=.fanout", source, destination]);
    assert.equal(diff.code, 0, `diff -r ${destination}:\n${diff.stdout}${diff.stderr}`);

    const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
      cwd: destination,
    });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stdout.trim().split("\n").length, fileCount, check.stdout);

    const copyTree = await listTree(destination);
    assert.deepEqual([...copyTree.keys()].sort(), [...sourceTree.keys()].sort());
    for (const [rel, entry] of sourceTree) {
      if (entry.kind === "folder") continue;
      assert.equal(copyTree.get(rel)!.mtimeMs, entry.mtimeMs, `mtime of ${rel} in ${destination}`);
    }
  }
});

Deno.test("an unchanged rerun writes nothing but its run log and lock: every inode and ctime stays the same", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const fileCount = await makeCardTree(source);
  const destinations = ["a", "b"].map((name) => path.join(folder.path, name));
  assert.equal((await runFanout(["backup", source, ...destinations])).code, 0);
  // Each run adds a log under .fanout/logs and holds .fanout/lock while it runs, so the
  // .fanout folder itself changes; nothing else may.
  const withoutLogs = async (destination: string) =>
    new Map(
      [...(await listTree(destination, { withRecords: true }))].filter(([rel]) =>
        rel !== ".fanout" && !rel.startsWith(".fanout/logs")
      ),
    );
  const logCount = (destination: string) =>
    [...Deno.readDirSync(path.join(destination, ".fanout", "logs"))].length;
  const before = await Promise.all(destinations.map(withoutLogs));
  assert.equal(logCount(destinations[0]), 1);

  const rerun = await runFanout(["backup", "--json", source, ...destinations]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const summary = events(rerun).at(-1);
  for (const destination of summary.destinations) {
    assert.equal(destination.copied, 0);
    assert.equal(destination.skipped, fileCount);
  }
  const after = await Promise.all(destinations.map(withoutLogs));
  assert.equal(logCount(destinations[0]), 2);
  destinations.forEach((destination, i) => {
    assert.ok(before[i].has(".fanout/manifest.ndjson"));
    for (const [rel, entry] of before[i]) {
      const now = after[i].get(rel);
      assert.ok(now, `${rel} vanished from ${destination}`);
      assert.equal(now.ino, entry.ino, `${rel} in ${destination} was replaced`);
      assert.equal(now.ctimeMs, entry.ctimeMs, `${rel} in ${destination} was changed`);
    }
    assert.equal(after[i].size, before[i].size);
  });
});

Deno.test("a changed file is copied again on the next run, and only that file", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await makeCardTree(source);
  const destination = path.join(folder.path, "dest");
  assert.equal((await runFanout(["backup", source, destination])).code, 0);

  const changed = path.join(source, "My Trip", "photo 1.jpg");
  await Deno.writeTextFile(changed, "edited in the field");
  const rerun = await runFanout(["backup", "--json", source, destination]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const written = events(rerun).filter((e) => e.type === "file" && e.status !== "skipped");
  assert.deepEqual(written.map((e) => [e.path, e.status]), [["My Trip/photo 1.jpg", "verified"]]);
  assert.equal(
    await Deno.readTextFile(path.join(destination, "My Trip", "photo 1.jpg")),
    "edited in the field",
  );
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout);
});

Deno.test("files gone from the source stay in the records while their copies hold, hundreds looked at in one rerun", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const destination = path.join(folder.path, "dest");
  const names = Array.from(
    { length: 300 },
    (_, i) => `d${i % 3}/f${String(i).padStart(3, "0")}.txt`,
  );
  for (const [i, rel] of names.entries()) {
    await Deno.mkdir(path.join(source, path.dirname(rel)), { recursive: true });
    await Deno.writeTextFile(path.join(source, rel), `file ${i}\n`);
  }
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  // 200 files leave the source, more than are looked at at once. Of their copies, one is
  // changed on the destination and one removed: only those two records may go.
  for (const rel of names.slice(100)) await Deno.remove(path.join(source, rel));
  await Deno.writeTextFile(path.join(destination, "d1/f100.txt"), "changed on the destination\n");
  await Deno.remove(path.join(destination, "d2/f101.txt"));

  const rerun = await runFanout(["backup", source, destination]);
  assert.equal(rerun.code, 0, rerun.stderr);
  const sums = await Deno.readTextFile(path.join(destination, ".fanout", "SHA256SUMS"));
  const listed = sums.trimEnd().split("\n").map((line) => line.slice(66));
  const held = names.filter((rel) => rel !== "d1/f100.txt" && rel !== "d2/f101.txt").sort();
  assert.deepEqual(listed, held);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

Deno.test("symlinks, FIFOs and the source's own .fanout folder are skipped, never opened or copied", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  await Deno.mkdir(path.join(source, ".fanout"), { recursive: true });
  await Deno.writeTextFile(path.join(source, ".fanout", "manifest.ndjson"), "not ours\n");
  await Deno.writeTextFile(path.join(source, "photo.jpg"), "pixels");
  await Deno.symlink("/etc", path.join(source, "link-out"));
  // Opening a FIFO without a writer blocks forever: the run finishing proves it was not opened.
  assert.equal((await sh("mkfifo", [path.join(source, "pipe")])).code, 0);
  const destination = path.join(folder.path, "dest");

  const run = await runFanout(["backup", "--json", source, destination], { timeoutMs: 60_000 });
  assert.notEqual(run.code, 143, "killed by the guard: the FIFO was opened");
  assert.equal(run.code, 0, run.stderr);
  const warnings = events(run).filter((e) => e.type === "warning");
  assert.deepEqual(warnings.map((w) => w.path).sort(), ["link-out", "pipe"]);
  assert.deepEqual([...(await listTree(destination)).keys()], ["photo.jpg"]);
  const manifest = await Deno.readTextFile(path.join(destination, ".fanout", "manifest.ndjson"));
  assert.match(manifest, /"path":"photo.jpg"/);
  assert.doesNotMatch(manifest, /not ours/);
});

Deno.test("--links copies symlinks as symlinks, never following them; a rerun leaves them be", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  const outside = path.join(folder.path, "outside");
  await Deno.mkdir(path.join(source, "DCIM"), { recursive: true });
  await Deno.mkdir(outside);
  await Deno.writeTextFile(path.join(source, "DCIM", "a.jpg"), "pixels");
  await Deno.symlink("a.jpg", path.join(source, "DCIM", "latest.jpg"));
  await Deno.symlink(outside, path.join(source, "elsewhere"));
  await Deno.symlink("no/such/file", path.join(source, "dangling"));
  const destination = path.join(folder.path, "dest");

  const run = await runFanout(["backup", "--json", "--links", source, destination]);
  assert.equal(run.code, 0, run.stderr);
  const links = events(run).filter((e) => e.type === "file" && e.link !== undefined);
  assert.deepEqual(
    links.map((e) => [e.path, e.link, e.status]).sort(),
    [["DCIM/latest.jpg", "a.jpg", "verified"], ["dangling", "no/such/file", "verified"], [
      "elsewhere",
      outside,
      "verified",
    ]],
  );
  for (const rel of ["DCIM/latest.jpg", "elsewhere", "dangling"]) {
    assert.equal(
      await Deno.readLink(path.join(destination, rel)),
      await Deno.readLink(path.join(source, rel)),
    );
  }
  assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing was written where a link points");
  const diff = await sh("diff", [
    "-r",
    "--no-dereference",
    "--exclude=.fanout",
    source,
    destination,
  ]);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.stdout.trim(), "DCIM/a.jpg: OK", "links are not in SHA256SUMS");
  assert.equal((await runFanout(["verify", destination])).code, 0);

  const before = (await Deno.lstat(path.join(destination, "elsewhere"))).ino;
  const rerun = await runFanout(["backup", "--json", "--links", source, destination]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.ok(events(rerun).filter((e) => e.link).every((e) => e.status === "skipped"));
  assert.equal((await Deno.lstat(path.join(destination, "elsewhere"))).ino, before);

  // A link pointed elsewhere behind fanout's back is named by verify.
  await Deno.remove(path.join(destination, "dangling"));
  await Deno.symlink("/etc/passwd", path.join(destination, "dangling"));
  const verify = await runFanout(["verify", destination]);
  assert.equal(verify.code, 1);
  assert.match(
    verify.stderr,
    /MISMATCH: dangling: the link points to \/etc\/passwd, recorded no\/such\/file/,
  );
});

Deno.test("the records list the files in path order, whatever order the folders were walked in, after a rerun that adds files too", async () => {
  await using folder = await testFolder();
  const source = path.join(folder.path, "card");
  // Walked folder by folder, "a/…" comes before "a-b.txt", though "-" sorts before "/"; and
  // "😀" (two UTF-16 units from 0xD83D) sorts before "～" (0xFF5E) as JavaScript compares.
  const names = ["a/z.txt", "a-b.txt", "a.txt", "b/c/d.txt", "ä.txt", "～.txt", "😀.txt"];
  const write = (rel: string) =>
    Deno.mkdir(path.dirname(path.join(source, rel)), { recursive: true })
      .then(() => Deno.writeTextFile(path.join(source, rel), rel));
  for (const rel of names) await write(rel);
  const destination = path.join(folder.path, "ssd");
  const listed = async () => {
    const manifest = path.join(destination, ".fanout", "manifest.ndjson");
    const lines = (await Deno.readTextFile(manifest)).trim().split("\n").slice(1);
    return lines.map((line) => JSON.parse(line).path);
  };
  assert.equal((await runFanout(["backup", source, destination])).code, 0);
  assert.deepEqual(await listed(), [...names].sort());
  // The rerun skips these by their records and copies the new ones among them.
  const added = ["a/a.txt", "a-a.txt", "b/c.txt"];
  for (const rel of added) await write(rel);
  const rerun = await runFanout(["backup", source, destination]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(await listed(), [...names, ...added].sort());
  const check = await sh("sha256sum", ["--check", "--strict", ".fanout/SHA256SUMS"], {
    cwd: destination,
  });
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

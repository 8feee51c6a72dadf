/**
 * planDestination on a real destination folder: what is skipped, re-read or copied, and the
 * bytes the copies replace. Folders are listed once; files found there are looked at.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { fileTable, openFileTable, shareFileTable } from "../../src/coordinator/file_table.ts";
import type { SourceFile } from "../../src/coordinator/messages.ts";
import { planDestination } from "../../src/coordinator/plan.ts";
import type { ManifestEntry } from "../../src/verify/manifest.ts";
import { testFolder } from "../helpers.ts";

const MTIME_MS = Date.UTC(2024, 4, 1, 10, 30, 15, 250);

function source(rel: string, size: number): SourceFile {
  return { path: rel, size, mtimeMs: MTIME_MS, mode: 0o100644 };
}

function record(rel: string, size: number, verifiedAt: string | null): ManifestEntry {
  return { path: rel, size, mtimeMs: MTIME_MS, hash: "sha256", digest: "0".repeat(64), verifiedAt };
}

async function put(root: string, rel: string, size: number): Promise<void> {
  const file = path.join(root, rel);
  await Deno.mkdir(path.dirname(file), { recursive: true });
  await Deno.writeFile(file, new Uint8Array(size));
  await Deno.utime(file, new Date(), new Date(MTIME_MS));
}

Deno.test("unchanged files are skipped or re-read; changed, missing and unrecorded ones copied", async () => {
  await using folder = await testFolder();
  const root = folder.path;
  await put(root, "DCIM/a.jpg", 10); // recorded, verified, as on disk: skipped
  await put(root, "DCIM/b.jpg", 99); // recorded with 20 bytes, 99 on disk: copied over
  await put(root, "DCIM/d.jpg", 40); // on disk without a record: copied over
  await put(root, "DCIM/e.jpg", 50); // recorded, never read back: re-read
  await put(root, "DCIM/.fanout-0123456789abcdef.tmp", 7); // left by an earlier run
  await put(root, "DCIM/.fanout-notatemp.tmp", 8); // not a name fanout gives
  const files = fileTable([
    source("DCIM/a.jpg", 10),
    source("DCIM/b.jpg", 20),
    source("DCIM/c.jpg", 30), // recorded, gone from the disk: copied
    source("DCIM/d.jpg", 40),
    source("DCIM/e.jpg", 50),
    source("MISC/f.jpg", 60), // a folder the destination does not have
  ]);
  const records = new Map(
    [
      record("DCIM/a.jpg", 10, "2024-05-02T00:00:00.000Z"),
      record("DCIM/b.jpg", 20, "2024-05-02T00:00:00.000Z"),
      record("DCIM/c.jpg", 30, "2024-05-02T00:00:00.000Z"),
      record("DCIM/e.jpg", 50, null),
    ].map((entry) => [entry.path, entry]),
  );

  const opened = openFileTable(shareFileTable(files));
  const plan = await planDestination(opened, root, records, true);
  assert.deepEqual(plan.skip.map(({ index }) => files.paths[index]), ["DCIM/a.jpg"]);
  assert.deepEqual(plan.skip.map(({ record }) => record.path), ["DCIM/a.jpg"]);
  assert.deepEqual(plan.recheck.map(({ index }) => files.paths[index]), ["DCIM/e.jpg"]);
  assert.deepEqual(plan.copy.map((index) => files.paths[index]), [
    "DCIM/b.jpg",
    "DCIM/c.jpg",
    "DCIM/d.jpg",
    "MISC/f.jpg",
  ]);
  assert.equal(plan.replacedBytes, 99 + 40);
  // The folders listed, with the temp files in them; MISC is not there, so it holds none.
  assert.deepEqual(
    plan.temps,
    new Map([
      [path.join(root, "DCIM"), [path.join(root, "DCIM", ".fanout-0123456789abcdef.tmp")]],
      [path.join(root, "MISC"), []],
    ]),
  );

  const unverified = await planDestination(opened, root, records, false);
  assert.deepEqual(unverified.skip.map(({ record }) => record.path), ["DCIM/a.jpg", "DCIM/e.jpg"]);
  assert.deepEqual(unverified.recheck, []);

  // On a local file system, in plain calls one after another: the same plan.
  assert.deepEqual(await planDestination(opened, root, records, true, true), plan);
  assert.deepEqual(await planDestination(opened, root, records, false, true), unverified);
});

Deno.test("files of one folder are found however their folders' names begin and follow each other", async () => {
  await using folder = await testFolder();
  const root = folder.path;
  // Folders whose names begin alike, the root, a name beyond ASCII, and a folder met twice.
  const rels = [
    "a/x.jpg",
    "ab/y.jpg",
    "ac/v.jpg",
    "a/b/z.jpg",
    "top.jpg",
    "\u5199\u771f/p.jpg",
    "a/w.jpg",
  ];
  for (const [k, rel] of rels.entries()) await put(root, rel, 10 + k);
  const files = fileTable([...rels.map((rel, k) => source(rel, 10 + k)), source("ab/new.jpg", 1)]);
  const plan = await planDestination(openFileTable(shareFileTable(files)), root, new Map(), true);
  // Every file on the destination was found (with no record, each is copied over).
  assert.equal(plan.replacedBytes, rels.reduce((sum, _, k) => sum + 10 + k, 0));
  assert.deepEqual(plan.copy.length, rels.length + 1);
  assert.deepEqual(
    [...plan.temps.keys()].sort(),
    ["", "a", "a/b", "ab", "ac", "\u5199\u771f"].map((rel) => path.join(root, rel)).sort(),
  );
});

/**
 * Layout checks: how two paths relate under POSIX and Windows rules, and the refusals a
 * backup makes before writing anything, on real folders.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { UsageError } from "../../src/errors.ts";
import { checkLayout, type PathFlavor, pathRelation } from "../../src/coordinator/layout.ts";
import { listTree, testFolder } from "../helpers.ts";

const posix: PathFlavor = {
  relative: path.posix.relative,
  isAbsolute: path.posix.isAbsolute,
  sep: path.posix.sep,
  caseInsensitive: false,
};

const win32: PathFlavor = {
  relative: path.win32.relative,
  isAbsolute: path.win32.isAbsolute,
  sep: path.win32.sep,
  caseInsensitive: true,
};

Deno.test("posix: same, inside, contains and apart", () => {
  assert.equal(pathRelation("/media/card", "/media/card", posix), "same");
  assert.equal(pathRelation("/media/card/", "/media/card", posix), "same");
  assert.equal(pathRelation("/media/card/DCIM/100", "/media/card", posix), "inside");
  assert.equal(pathRelation("/media/card", "/media/card/DCIM", posix), "contains");
  assert.equal(pathRelation("/media/card", "/", posix), "inside");
  assert.equal(pathRelation("/", "/media/card", posix), "contains");
  assert.equal(pathRelation("/media/card", "/backup/card", posix), "apart");
});

Deno.test("posix: a sibling sharing a prefix is apart", () => {
  assert.equal(pathRelation("/card", "/cards", posix), "apart");
  assert.equal(pathRelation("/cards", "/card", posix), "apart");
  assert.equal(pathRelation("/media/card-backup", "/media/card", posix), "apart");
});

Deno.test("posix: a folder whose name starts with .. is inside, a real .. is not", () => {
  assert.equal(pathRelation("/card/..x", "/card", posix), "inside");
  assert.equal(pathRelation("/card/...", "/card", posix), "inside");
  assert.equal(pathRelation("/card", "/card/..x", posix), "contains");
  assert.equal(pathRelation("/card/../other", "/card", posix), "apart");
});

Deno.test("posix: names differing only in case are different folders", () => {
  assert.equal(pathRelation("/Card", "/card", posix), "apart");
  assert.equal(pathRelation("/Card/sub", "/card", posix), "apart");
});

Deno.test("win32: case is ignored", () => {
  assert.equal(pathRelation("c:\\card\\sub", "C:\\Card", win32), "inside");
  assert.equal(pathRelation("C:\\Card", "c:\\card\\sub", win32), "contains");
  assert.equal(pathRelation("C:\\Card", "c:\\CARD", win32), "same");
  assert.equal(pathRelation("C:\\Card", "c:\\cards", win32), "apart");
});

Deno.test("win32: the four relations, with a ..x folder and a common prefix", () => {
  assert.equal(pathRelation("D:\\backup\\card", "D:\\backup\\card", win32), "same");
  assert.equal(pathRelation("D:\\card\\..x", "D:\\card", win32), "inside");
  assert.equal(pathRelation("D:\\card", "D:\\cards", win32), "apart");
  assert.equal(pathRelation("D:\\cards\\x", "D:\\card", win32), "apart");
});

Deno.test("win32: folders on different drives are apart, even with the same path", () => {
  assert.equal(pathRelation("C:\\card", "D:\\card", win32), "apart");
  assert.equal(pathRelation("D:\\card\\sub", "C:\\card", win32), "apart");
  assert.equal(pathRelation("C:\\card", "D:\\card\\sub", win32), "apart");
  assert.equal(pathRelation("C:\\", "D:\\", win32), "apart");
});

/** A source folder with a file in it, and an existing destination folder, under `root`. */
async function makeLayout(root: string) {
  const source = path.join(root, "card");
  const destination = path.join(root, "ssd");
  await Deno.mkdir(path.join(source, "DCIM"), { recursive: true });
  await Deno.writeTextFile(path.join(source, "DCIM", "IMG_0001.JPG"), "photo");
  await Deno.mkdir(destination);
  return { source, destination };
}

/**
 * Asserts that `checkLayout` refuses with a UsageError (exit code 2) whose message names
 * `named`, and that nothing below `root` was created or changed.
 */
async function assertRefused(
  root: string,
  source: string,
  destinations: string[],
  named: string,
): Promise<void> {
  const before = await listTree(root, { withRecords: true });
  await assert.rejects(checkLayout(source, destinations), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(named), `"${error.message}" should name ${named}`);
    return true;
  });
  assert.deepEqual(await listTree(root, { withRecords: true }), before, "nothing is created");
}

Deno.test("checkLayout accepts a good layout, with a new destination in an existing folder", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  const fresh = path.join(folder.path, "new backup");
  const layout = await checkLayout(source, [destination, fresh]);
  assert.equal(layout.source, await Deno.realPath(source));
  assert.deepEqual(layout.destinations, [await Deno.realPath(destination), fresh]);
  await assert.rejects(Deno.stat(fresh), Deno.errors.NotFound, "checking creates nothing");
});

Deno.test("checkLayout refuses a missing source or one that is a file", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  const missing = path.join(folder.path, "no-card");
  await assertRefused(folder.path, missing, [destination], missing);
  const file = path.join(source, "DCIM", "IMG_0001.JPG");
  await assertRefused(folder.path, file, [destination], file);
});

Deno.test("checkLayout refuses the source itself as destination", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  await assertRefused(folder.path, source, [destination, source], source);
  const sameByAnotherName = path.join(source, "DCIM", "..");
  await assertRefused(folder.path, source, [sameByAnotherName], sameByAnotherName);
});

Deno.test("checkLayout refuses a destination inside the source, existing or new", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  const existing = path.join(source, "DCIM");
  await assertRefused(folder.path, source, [destination, existing], existing);
  const fresh = path.join(source, "backup");
  await assertRefused(folder.path, source, [fresh], fresh);
});

Deno.test("checkLayout refuses a destination that leads inside the source through a symlink", async () => {
  await using folder = await testFolder();
  const { source } = await makeLayout(folder.path);
  const link = path.join(folder.path, "looks-apart");
  await Deno.symlink(path.join(source, "DCIM"), link);
  await assertRefused(folder.path, source, [link], link);
});

Deno.test("checkLayout refuses a destination that contains the source", async () => {
  await using folder = await testFolder();
  const { source } = await makeLayout(folder.path);
  await assertRefused(folder.path, source, [folder.path], folder.path);
});

Deno.test("checkLayout refuses a destination named twice, even by another spelling", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  await assertRefused(folder.path, source, [destination, destination], destination);
  const respelled = `${destination}/./`;
  await assertRefused(folder.path, source, [destination, respelled], respelled);
  const fresh = path.join(folder.path, "new");
  await assertRefused(folder.path, source, [fresh, fresh], fresh);
});

Deno.test("checkLayout refuses a destination that is a file", async () => {
  await using folder = await testFolder();
  const { source } = await makeLayout(folder.path);
  const file = path.join(folder.path, "backup.zip");
  await Deno.writeTextFile(file, "not a folder");
  await assertRefused(folder.path, source, [file], file);
});

Deno.test("checkLayout refuses a destination whose parent folder does not exist", async () => {
  await using folder = await testFolder();
  const { source, destination } = await makeLayout(folder.path);
  const unmounted = path.join(folder.path, "media", "ssd", "card");
  await assertRefused(folder.path, source, [destination, unmounted], unmounted);
  const belowFile = path.join(source, "DCIM", "IMG_0001.JPG", "card");
  await assertRefused(folder.path, source, [belowFile], belowFile);
});

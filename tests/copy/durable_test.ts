/**
 * Temp names, and removeStaleTemps on real folders: the temp files an earlier run left go,
 * unless kept for a resume; a folder that planning listed is taken at its word, any other is
 * listed here.
 */
import { assert } from "../deps.ts";
import { path } from "../../src/deps.ts";
import { isTempName, removeStaleTemps, tempPathFor } from "../../src/copy/durable.ts";
import { testFolder } from "../helpers.ts";

const exists = (file: string) => Deno.lstat(file).then(() => true, () => false);

Deno.test("stale temp files go, listed folders are not listed again, a kept one and other files stay", async () => {
  await using folder = await testFolder();
  const [listed, unlisted, empty] = ["listed", "unlisted", "empty"].map((name) =>
    path.join(folder.path, name)
  );
  for (const dir of [listed, unlisted, empty]) await Deno.mkdir(dir);
  const reported = tempPathFor(path.join(listed, "a.jpg"));
  const unreported = tempPathFor(path.join(listed, "b.jpg"));
  const stale = tempPathFor(path.join(unlisted, "c.jpg"));
  const kept = tempPathFor(path.join(unlisted, "big.mov"));
  const photo = path.join(unlisted, "d.jpg");
  const lookalike = path.join(unlisted, ".fanout-notours.tmp");
  for (const file of [reported, unreported, stale, kept, photo, lookalike]) {
    await Deno.writeTextFile(file, "x");
  }
  // Planning saw `reported` in `listed`, and a temp file that has gone since.
  const gone = tempPathFor(path.join(listed, "e.jpg"));
  const missing = path.join(folder.path, "not-made-yet");

  const removed = await removeStaleTemps(
    [listed, unlisted, empty, missing],
    new Set([kept]),
    new Map([[listed, [reported, gone]]]),
  );

  assert.equal(removed, 2);
  assert.equal(await exists(reported), false, "a temp file planning found goes");
  assert.equal(await exists(stale), false, "a temp file in a folder listed here goes");
  assert.equal(await exists(unreported), true, "a listed folder is not listed again");
  assert.equal(await exists(kept), true, "a temp file kept for a resume stays");
  assert.equal(await exists(photo), true);
  assert.equal(await exists(lookalike), true, "only fanout's own temp names are removed");
});

Deno.test("a temp file is named from its target's name, beside it, one name for one target", () => {
  const temp = tempPathFor(path.join("/dest", "DCIM", "IMG_0001.CR3"));
  assert.equal(path.dirname(temp), path.join("/dest", "DCIM"));
  assert.ok(isTempName(path.basename(temp)), temp);
  assert.equal(tempPathFor(path.join("/dest", "DCIM", "IMG_0001.CR3")), temp);
  // The names of a folder of 100,000 files, and names that differ in one unit or in case.
  const names = Array.from({ length: 100_000 }, (_, i) => `f${i}.bin`);
  names.push("IMG_0001.cr3", "IMG_0001.CR3 ", "ÉTÉ.jpg", "ete.jpg", "été.jpg");
  const temps = new Set(names.map((name) => path.basename(tempPathFor(path.join("/d", name)))));
  assert.equal(temps.size, names.length, "no two names share a temp file");
});

import { assert } from "../deps.ts";
import { pathFilter, PRESET_NAMES, presetGlobs } from "../../src/coordinator/filter.ts";

Deno.test("no rules filter nothing", async () => {
  assert.equal(await pathFilter({ exclude: [], include: [], only: [] }), null);
});

Deno.test("a glob without / matches a name in any folder, a glob with / the whole path, case ignored", async () => {
  const filter = (await pathFilter({
    exclude: [".Trashes", "*.tmp", "DCIM/999*"],
    include: [],
    only: [],
  }))!;
  assert.equal(filter.walks(".Trashes"), false);
  assert.equal(filter.walks("sub/.Trashes"), false);
  assert.equal(filter.takes("a/b/c.TMP"), false);
  assert.equal(filter.walks("DCIM/999TEMP"), false);
  assert.equal(filter.walks("OTHER/DCIM/999TEMP"), true);
  assert.equal(filter.takes("DCIM/100CANON/IMG_0001.CR3"), true);
  assert.equal(filter.includesOnly, false);
});

Deno.test("with an include only matching files are taken, folders are still walked, exclude wins", async () => {
  const filter = (await pathFilter({ exclude: ["*.JPG"], include: ["*.jpg", "*.cr3"], only: [] }))!;
  assert.equal(filter.includesOnly, true);
  assert.equal(filter.walks("DCIM/100CANON"), true);
  assert.equal(filter.takes("DCIM/100CANON/IMG_0001.CR3"), true);
  assert.equal(filter.takes("DCIM/100CANON/IMG_0001.jpg"), false);
  assert.equal(filter.takes("DCIM/100CANON/IMG_0001.xmp"), false);
});

Deno.test("presets: photos takes RAW too; every preset matches its own extensions in any case", async () => {
  const photos = (await pathFilter({ exclude: [], include: [], only: ["photos"] }))!;
  for (const name of ["a.JPG", "a.heic", "b/a.CR3", "a.dng"]) assert.ok(photos.takes(name), name);
  assert.ok(!photos.takes("a.MP4"));
  for (const preset of PRESET_NAMES) {
    const filter = (await pathFilter({ exclude: [], include: [], only: [preset] }))!;
    for (const glob of presetGlobs(preset)) {
      const extension = glob.slice(2);
      assert.ok(filter.takes(`DCIM/X.${extension.toUpperCase()}`), `${preset} ${extension}`);
    }
  }
  const video = (await pathFilter({ exclude: [], include: [], only: ["video"] }))!;
  assert.ok(!video.takes("a.xmp") && !video.takes("a.CR3") && video.takes("CLIP/A001.MXF"));
});

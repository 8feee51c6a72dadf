/**
 * The benchmark's data sets, generated once under the work folder and reused while their
 * recipe (every path and size) is unchanged and the files on disk still have those sizes.
 *
 * - `camera`: a camera card — XMP sidecars of 2–8 KiB, JPEGs of 1–4 MiB, RAWs of 20–30 MiB
 *   and two videos of 100–200 MiB, about 1 GiB at scale 1. `--scale` multiplies the number
 *   of files of each kind (at least one of each), never their sizes.
 * - `small`: 5,000 files of 4–64 KiB at scale 1, 100 per folder (`--scale 4`: 20,000).
 * - `large`: one file of 1 GiB (a long video); `--scale` adds more of them.
 * - `many`: 100,000 files of 0–4 KiB at scale 1, 100 per folder: memory and per-file cost
 *   (`--scale 0.1` gives 10,000, to see how time grows with the count).
 *
 * Sizes and names come from a seeded generator, so a recipe always gives the same layout;
 * content is random (incompressible), written in chunks of at most 1 MiB.
 */
import { path } from "../src/deps.ts";
import { writeRandomFile } from "../tests/helpers.ts";

export type SetName = "camera" | "small" | "large" | "many";
export const SET_NAMES: readonly SetName[] = ["camera", "small", "large", "many"];

/** One file of a recipe: its path relative to the source, "/"-separated, and its size. */
export interface FileSpec {
  path: string;
  size: number;
}

/** A data set on disk: the source folder and what it holds. */
export interface DataSet {
  name: string;
  /** The set's folder: `source/`, `recipe.json`, `source.sha256`. */
  folder: string;
  source: string;
  files: FileSpec[];
  bytes: number;
  /** True when this run generated it, false when it was reused. */
  generated: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** One kind of file in a set: how many at scale 1, where, and the size range. */
interface Kind {
  count: number;
  min: number;
  max: number;
  path: (n: number) => string;
}

const number4 = (n: number) => String(n).padStart(4, "0");

const KINDS: Record<SetName, Kind[]> = {
  camera: [
    { count: 500, min: 2 * KiB, max: 8 * KiB, path: (n) => `DCIM/100FANOT/IMG_${number4(n)}.XMP` },
    { count: 50, min: 1 * MiB, max: 4 * MiB, path: (n) => `DCIM/100FANOT/IMG_${number4(n)}.JPG` },
    { count: 24, min: 20 * MiB, max: 30 * MiB, path: (n) => `DCIM/100FANOT/IMG_${number4(n)}.CR3` },
    {
      count: 2,
      min: 100 * MiB,
      max: 200 * MiB,
      path: (n) => `PRIVATE/M4ROOT/CLIP/C${number4(n)}.MP4`,
    },
  ],
  large: [
    { count: 1, min: 1024 * MiB, max: 1024 * MiB, path: (n) => `CLIP/A${number4(n)}.MOV` },
  ],
  many: [
    {
      count: 100_000,
      min: 0,
      max: 4 * KiB,
      path: (n) =>
        `m${String(Math.floor((n - 1) / 100)).padStart(4, "0")}/f${String(n).padStart(6, "0")}.bin`,
    },
  ],
  small: [
    {
      count: 5000,
      min: 4 * KiB,
      max: 64 * KiB,
      path: (n) => `d${String(Math.floor((n - 1) / 100)).padStart(3, "0")}/f${number4(n)}.bin`,
    },
  ],
};

/** mulberry32: a small seeded generator of floats in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every file of a set at a scale, in a fixed order. */
export function recipe(set: SetName, scale: number): FileSpec[] {
  const random = seeded(1);
  return KINDS[set].flatMap((kind) =>
    Array.from({ length: Math.max(1, Math.round(kind.count * scale)) }, (_, i) => ({
      path: kind.path(i + 1),
      size: kind.min + Math.floor(random() * (kind.max - kind.min + 1)),
    }))
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await Deno.lstat(file);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** True when every file of the recipe is on disk with its size. */
async function matches(source: string, files: FileSpec[]): Promise<boolean> {
  for (const file of files) {
    try {
      if ((await Deno.lstat(path.join(source, file.path))).size !== file.size) return false;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }
  return true;
}

/**
 * Returns the data set `set` at `scale` under `workDir`, generating it first unless an
 * identical one is already there. `log` receives progress lines.
 */
export async function ensureDataSet(
  workDir: string,
  set: SetName,
  scale: number,
  log: (line: string) => void,
): Promise<DataSet> {
  const name = `${set}-x${scale}`;
  const folder = path.join(workDir, name);
  const source = path.join(folder, "source");
  const recipeFile = path.join(folder, "recipe.json");
  const files = recipe(set, scale);
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  const wanted = JSON.stringify(files);
  const reusable = await exists(recipeFile) &&
    await Deno.readTextFile(recipeFile) === wanted &&
    await matches(source, files);
  if (!reusable) {
    log(`generating ${name}: ${files.length} files, ${(bytes / MiB).toFixed(0)} MiB in ${source}`);
    const started = performance.now();
    await Deno.remove(folder, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    for (const file of files) await writeRandomFile(path.join(source, file.path), file.size);
    // The recipe is written last: it marks the set as complete.
    await Deno.writeTextFile(recipeFile, wanted);
    log(`generated ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { name, folder, source, files, bytes, generated: !reusable };
}

/**
 * Returns the path of a GNU coreutils checksum file of the source (paths relative to the
 * source root, so `sha256sum -c` checks a copy from inside it), computing it with
 * `sha256sum` unless it exists. It is computed outside any timing.
 */
export async function ensureChecksums(
  dataSet: DataSet,
): Promise<{ file: string; seconds: number | null }> {
  const file = path.join(dataSet.folder, "source.sha256");
  if (await exists(file)) return { file, seconds: null };
  const started = performance.now();
  const lines: string[] = [];
  const batch = 500;
  for (let i = 0; i < dataSet.files.length; i += batch) {
    const output = await new Deno.Command("sha256sum", {
      args: ["--", ...dataSet.files.slice(i, i + batch).map((spec) => spec.path)],
      cwd: dataSet.source,
      stdin: "null",
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error(`sha256sum failed in ${dataSet.source}`);
    lines.push(new TextDecoder().decode(output.stdout));
  }
  const temp = `${file}.tmp`;
  await Deno.writeTextFile(temp, lines.join(""));
  await Deno.rename(temp, file);
  return { file, seconds: (performance.now() - started) / 1000 };
}

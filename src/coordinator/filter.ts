/**
 * `--exclude GLOB`, `--include GLOB` and `--only PRESET`: which parts of the source a run
 * takes. Globs are matched as `--priority`'s are: against the path relative to the source,
 * "/"-separated; a glob without "/" matches a name in any folder (`*.tmp`, `.Trashes`); case
 * is ignored, since cameras and computers disagree on it.
 *
 * - An excluded folder is not walked at all; an excluded file is not taken.
 * - With any include (a glob or a preset), only files that match one are taken, and only
 *   the folders on their way are made; folders are always walked, so `*.CR3` finds
 *   `DCIM/100CANON/IMG_0001.CR3`.
 * - An exclude wins over an include.
 */
import { loadPicomatch } from "../deps.ts";

/** `--only` presets: the extensions each stands for. */
export const MEDIA_PRESETS = {
  raw: [
    "3fr",
    "arw",
    "cr2",
    "cr3",
    "crw",
    "dng",
    "erf",
    "fff",
    "iiq",
    "kdc",
    "mef",
    "mos",
    "mrw",
    "nef",
    "nrw",
    "orf",
    "pef",
    "raf",
    "raw",
    "rw2",
    "rwl",
    "sr2",
    "srf",
    "srw",
    "x3f",
  ],
  photos: [
    "jpg",
    "jpeg",
    "heic",
    "heif",
    "hif",
    "avif",
    "png",
    "tif",
    "tiff",
    "webp",
    "gif",
    "bmp",
  ],
  video: [
    "mp4",
    "m4v",
    "mov",
    "mxf",
    "avi",
    "mts",
    "m2ts",
    "mkv",
    "braw",
    "r3d",
    "crm",
    "insv",
    "360",
    "lrv",
    "wmv",
    "webm",
    "3gp",
    "mpg",
    "mpeg",
  ],
  sidecars: ["xmp", "thm", "aae", "pp3", "dop", "cos", "on1", "xml", "srt", "lrf", "wav"],
} as const;

export type MediaPreset = keyof typeof MEDIA_PRESETS;
export const PRESET_NAMES = Object.keys(MEDIA_PRESETS) as MediaPreset[];

export interface FilterRules {
  exclude: string[];
  include: string[];
  only: MediaPreset[];
}

export const NO_FILTER: FilterRules = { exclude: [], include: [], only: [] };

/**
 * The globs a preset stands for. `photos` takes RAW files too, as a photographer means it.
 *
 * @example
 * presetGlobs("video"); // ["*.mp4", "*.m4v", …]
 */
export function presetGlobs(preset: MediaPreset): string[] {
  const extensions: readonly string[] = preset === "photos"
    ? [...MEDIA_PRESETS.photos, ...MEDIA_PRESETS.raw]
    : MEDIA_PRESETS[preset];
  return extensions.map((extension) => `*.${extension}`);
}

/** Decides, for each path the scan meets, whether the run takes it. */
export interface PathFilter {
  /** False for a folder that is not to be walked. */
  walks(folder: string): boolean;
  /** False for a file (or link) that is not to be taken. */
  takes(file: string): boolean;
  /** True when only included files are taken, so only their folders are made. */
  includesOnly: boolean;
}

/**
 * Whether a path matches any of `globs`, as --exclude, --include and --priority match: a glob
 * without "/" matches a name in any folder, and case is ignored. picomatch is loaded only
 * when there are globs to match.
 *
 * @example
 * const matches = await globMatcher(["*.CR3"]);
 * matches("DCIM/IMG_0001.cr3"); // true
 */
export async function globMatcher(globs: string[]): Promise<(path: string) => boolean> {
  if (globs.length === 0) return () => false;
  const picomatch = await loadPicomatch();
  const tests = globs.map((glob) =>
    // picomatch's basename option breaks patterns with "/", so it is set only without one.
    picomatch(glob, { basename: !glob.includes("/"), dot: true, nocase: true })
  );
  return (path) => tests.some((test) => test(path));
}

/**
 * The filter for `rules`; null when they filter nothing.
 *
 * @example
 * const filter = (await pathFilter({ exclude: [".Trashes"], include: [], only: ["raw"] }))!;
 * filter.takes("DCIM/IMG_0001.CR3"); // true
 * filter.walks(".Trashes"); // false
 */
export async function pathFilter(rules: FilterRules): Promise<PathFilter | null> {
  const includes = [...rules.include, ...rules.only.flatMap(presetGlobs)];
  if (rules.exclude.length === 0 && includes.length === 0) return null;
  const excluded = await globMatcher(rules.exclude);
  const included = includes.length > 0 ? await globMatcher(includes) : () => true;
  return {
    walks: (folder) => !excluded(folder),
    takes: (file) => !excluded(file) && included(file),
    includesOnly: includes.length > 0,
  };
}

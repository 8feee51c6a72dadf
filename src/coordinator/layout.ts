/**
 * Refuses bad layouts before anything is written: a missing or unreadable source, a source
 * that is not a folder, a destination equal to, inside or containing the source, a
 * destination named twice, a destination whose parent folder is missing.
 */
import { path } from "../deps.ts";
import { UsageError } from "../errors.ts";

/** How two resolved paths relate. */
export type PathRelation = "same" | "inside" | "contains" | "apart";

/** Path rules of one platform: its separator logic and whether names ignore case. */
export interface PathFlavor {
  relative(from: string, to: string): string;
  isAbsolute(p: string): boolean;
  sep: string;
  caseInsensitive: boolean;
}

/** The path rules of the running platform (macOS and Windows volumes usually ignore case). */
export const hostFlavor: PathFlavor = {
  relative: path.relative,
  isAbsolute: path.isAbsolute,
  sep: path.sep,
  caseInsensitive: Deno.build.os === "darwin" || Deno.build.os === "windows",
};

/**
 * How `a` relates to `b`, both absolute and resolved: "inside" means a is below b.
 *
 * @example
 * pathRelation("/card/sub", "/card", hostFlavor); // "inside"
 */
export function pathRelation(a: string, b: string, flavor: PathFlavor): PathRelation {
  const fold = (p: string) => flavor.caseInsensitive ? p.toLowerCase() : p;
  const isBelow = (child: string, parent: string) => {
    const rel = flavor.relative(fold(parent), fold(child));
    return rel !== "" && rel !== ".." && !rel.startsWith(".." + flavor.sep) &&
      !flavor.isAbsolute(rel);
  };
  if (flavor.relative(fold(a), fold(b)) === "") return "same";
  if (isBelow(a, b)) return "inside";
  if (isBelow(b, a)) return "contains";
  return "apart";
}

/** A checked layout: absolute, symlink-resolved paths. */
export interface Layout {
  source: string;
  destinations: string[];
}

/** Checks the source and destinations of a backup; throws UsageError on the first problem. */
export async function checkLayout(source: string, destinations: string[]): Promise<Layout> {
  const resolvedSource = await checkSource(source);
  const resolved: string[] = [];
  for (const destination of destinations) {
    const target = await resolveDestination(destination);
    const relation = pathRelation(target, resolvedSource, hostFlavor);
    if (relation === "same") {
      throw new UsageError(`destination ${destination} is the source itself; pick another folder`);
    }
    if (relation === "inside") {
      throw new UsageError(
        `destination ${destination} is inside the source ${source}; pick a folder outside it`,
      );
    }
    if (relation === "contains") {
      throw new UsageError(
        `destination ${destination} contains the source ${source}; pick a folder outside it`,
      );
    }
    const twin = resolved.findIndex((earlier) =>
      pathRelation(target, earlier, hostFlavor) === "same"
    );
    if (twin >= 0) {
      throw new UsageError(
        `destination ${destination} is named twice (same folder as ${
          destinations[twin]
        }); give each destination once`,
      );
    }
    resolved.push(target);
  }
  return { source: resolvedSource, destinations: resolved };
}

async function checkSource(source: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`source ${source} does not exist; check the path`);
    }
    throw new UsageError(`cannot read source ${source}: ${(error as Error).message}`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`source ${source} is not a folder; give the folder to back up`);
  }
  try {
    for await (const _ of Deno.readDir(source)) break;
  } catch (error) {
    throw new UsageError(`cannot read source ${source}: ${(error as Error).message}`);
  }
  return await Deno.realPath(source);
}

/**
 * An existing destination must be a folder; a new one must have an existing parent folder,
 * so that a typo or an unmounted drive never fills the wrong disk.
 */
async function resolveDestination(destination: string): Promise<string> {
  const absolute = path.resolve(destination);
  const info = await statOrNull(absolute);
  if (info) {
    if (!info.isDirectory) {
      throw new UsageError(`destination ${destination} exists and is not a folder`);
    }
    return await Deno.realPath(absolute);
  }
  if (await lstatOrNull(absolute)) {
    throw new UsageError(
      `destination ${destination} is a symlink to a folder that does not exist; fix or remove the link`,
    );
  }
  const parent = path.dirname(absolute);
  const parentInfo = await statOrNull(parent);
  if (!parentInfo?.isDirectory) {
    throw new UsageError(
      `destination ${destination} cannot be created: its parent folder ${parent} does not exist (is the drive mounted?)`,
    );
  }
  return path.join(await Deno.realPath(parent), path.basename(absolute));
}

function statOrNull(p: string): Promise<Deno.FileInfo | null> {
  return infoOrNull(p, Deno.stat);
}

function lstatOrNull(p: string): Promise<Deno.FileInfo | null> {
  return infoOrNull(p, Deno.lstat);
}

async function infoOrNull(
  p: string,
  stat: (p: string) => Promise<Deno.FileInfo>,
): Promise<Deno.FileInfo | null> {
  try {
    return await stat(p);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw new UsageError(`cannot inspect ${p}: ${(error as Error).message}`);
  }
}

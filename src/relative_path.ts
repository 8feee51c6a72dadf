/**
 * Relative paths as fanout records them: "/"-separated below a root, whatever the platform.
 * Records may have been edited by hand, so a path read from one is checked before use.
 */
import { path } from "./deps.ts";

/**
 * The native path of a "/"-separated relative path below `root`.
 *
 * @example
 * toNative("/ssd/card", "DCIM/IMG_0001.CR3"); // "/ssd/card/DCIM/IMG_0001.CR3"
 */
export function toNative(root: string, rel: string): string {
  if (rel === "") return root;
  // A normal root and a path of plain names (as the scan makes them) need only a "/" between:
  // path.join costs more than the rest of a small file's path work, several times a file.
  if (path.sep === "/" && isNormalRoot(root) && !NOT_PLAIN.test(rel)) return `${root}/${rel}`;
  return path.join(root, ...rel.split("/"));
}

/** An empty name, "." or "..": what path.join would fold away. */
const NOT_PLAIN = /(^|\/)\.{0,2}(\/|$)/;

/** Roots checked by isNormalRoot: a run has a source and its destinations. */
const normalRoots = new Map<string, boolean>();

/** Whether `root` is as path.normalize makes it, without a trailing "/". */
function isNormalRoot(root: string): boolean {
  let normal = normalRoots.get(root);
  if (normal === undefined) {
    if (normalRoots.size >= 64) normalRoots.clear();
    normal = root !== "/" && !root.endsWith("/") && path.normalize(root) === root;
    normalRoots.set(root, normal);
  }
  return normal;
}

/**
 * The folder of a relative, "/"-separated path: "" at the root.
 *
 * @example
 * parentOf("DCIM/100CANON/IMG_0001.CR3"); // "DCIM/100CANON"
 */
export function parentOf(rel: string): string {
  return rel.slice(0, Math.max(0, rel.lastIndexOf("/")));
}

/**
 * Why `rel` cannot name a file inside a root, or null when it can: it must be relative,
 * without empty, "." or ".." segments and without NUL; on Windows also without "\" or ":".
 *
 * @example
 * unsafeRelativePath("../etc/passwd"); // "has a \"..\" segment"
 */
export function unsafeRelativePath(
  rel: string,
  os: typeof Deno.build.os = Deno.build.os,
): string | null {
  if (rel === "") return "is empty";
  if (rel.includes("\0")) return "contains a NUL character";
  if (rel.startsWith("/") || path.win32.isAbsolute(rel) && os === "windows") {
    return "is absolute";
  }
  if (os === "windows" && /[\\:]/.test(rel)) return "contains \\ or :, not allowed on Windows";
  for (const segment of rel.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return `has a "${segment}" segment`;
  }
  return null;
}

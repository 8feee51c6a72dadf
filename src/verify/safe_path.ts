/**
 * A path read from records must lead to a file inside the destination and nowhere else. Its
 * text is checked when the records are read (no "..", not absolute); this checks the disk:
 * no folder on the way may be a symlink, which could point anywhere on the machine.
 */
import { path } from "../deps.ts";

export class SafePaths {
  /** Folders already looked at, relative, with the reason they cannot be passed (or null). */
  #folders = new Map<string, Promise<string | null>>();

  constructor(private readonly root: string) {}

  /**
   * Why `rel` (relative, "/"-separated, already checked as text) cannot be followed inside
   * the root, or null when every folder on its way is a real folder or missing.
   *
   * @example
   * await new SafePaths("/nas/card").reason("DCIM/IMG_0001.CR3"); // null
   */
  async reason(rel: string): Promise<string | null> {
    const parts = rel.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const folder = parts.slice(0, depth).join("/");
      let check = this.#folders.get(folder);
      if (!check) {
        check = this.#inspect(folder);
        this.#folders.set(folder, check);
      }
      const reason = await check;
      if (reason) return reason;
    }
    return null;
  }

  async #inspect(folder: string): Promise<string | null> {
    try {
      const info = await Deno.lstat(path.join(this.root, ...folder.split("/")));
      return info.isSymlink ? `it goes through the symlink ${folder}, which is not followed` : null;
    } catch {
      // Missing, or not a folder: the file's own lstat says so.
      return null;
    }
  }
}

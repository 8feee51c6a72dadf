/**
 * The permissions fanout runs with, in one place: `deno task start`, `deno task compile`
 * (baked into the executable), the crontab line of `fanout schedule` and the README use
 * these (with V8_FLAGS, as RUN_FLAGS). A local backup needs neither --allow-net nor --allow-run; `--ping URL` adds
 * `--allow-net=HOST` for that host only.
 *
 * - read, write: the source and the destinations.
 * - ffi: libc's posix_fadvise, to drop each copy from the page cache before it is read
 *   back (and kill(pid, 0), to tell a stale lock from a live one). Without it the read-back
 *   comes from the cache, and the summary says so.
 * - sys: free space (statfs) and the host name for locks.
 * - env: HOME, XDG_CONFIG_HOME, APPDATA and the like, for the config file of named jobs.
 */
export const PERMISSION_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-sys",
  "--allow-env",
] as const;

/**
 * V8 told to favour a small heap: it grows the heap in smaller steps and collects sooner.
 * fanout runs one V8 isolate per destination plus one, each with its own heap; with 100,000
 * files to 3 destinations this halves the peak memory (503 → 231 MiB, measured 2026-11-29,
 * README "Speed"); 5,000 small files to 3 destinations took the same time with it and without
 * (3 runs each). Without it fanout works the same with more memory.
 */
export const V8_FLAGS = ["--v8-flags=--optimize-for-size"] as const;

/** What `deno run` needs besides the script: PERMISSION_FLAGS, then V8_FLAGS. */
export const RUN_FLAGS = [...PERMISSION_FLAGS, ...V8_FLAGS] as const;

/**
 * The value of environment variable `name`, or undefined when it is unset or --allow-env
 * was not granted (asked first, so that a terminal never shows a permission prompt).
 *
 * @example
 * const home = envVar("HOME");
 */
export function envVar(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  return Deno.env.get(name);
}

/**
 * The outside imports that any thread of fanout may load, as full specifiers, so that
 * `deno run <URL of main.ts>` works without deno.json (a remote module gets no import map).
 * A destination's worker loads this module, so what only some runs need is loaded on first
 * use: hash-wasm (--hash xxh128 and blake3) and picomatch (--exclude, --include, --only and
 * --priority). Each npm package in a worker costs it start-up time, once per destination.
 * The command line's own package (commander) is in src/cli/deps.ts and the jobs file's
 * (smol-toml) in src/config/deps.ts, which no worker loads.
 */
export { Buffer } from "node:buffer";
export { createHash, type Hash } from "node:crypto";
export { statfs } from "node:fs/promises";
export { default as path } from "node:path";
export { setImmediate } from "node:timers";
export { setFlagsFromString } from "node:v8";
export { runInNewContext } from "node:vm";
import type Picomatch from "npm:@types/picomatch@4.0.3";
export type { IHasher } from "npm:hash-wasm@4.13.0";

/** hash-wasm's xxh128 and BLAKE3, loaded on first use. */
export const loadHashWasm = () => import("npm:hash-wasm@4.13.0");

/** picomatch, loaded on first use. */
export const loadPicomatch = async (): Promise<typeof Picomatch> =>
  (await import("npm:picomatch@4.0.7")).default;

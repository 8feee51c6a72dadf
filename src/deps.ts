/**
 * Every outside import of fanout, as a full specifier, so that `deno run <URL of main.ts>`
 * works without deno.json (a remote module gets no import map).
 */
export {
  Argument,
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "npm:@commander-js/extra-typings@15.1.0";
export { Buffer } from "node:buffer";
export { createHash, type Hash } from "node:crypto";
export { statfs } from "node:fs/promises";
export { default as path } from "node:path";
export { createBLAKE3, createXXHash128, type IHasher } from "npm:hash-wasm@4.13.0";
// @ts-types="npm:@types/picomatch@4.0.3"
export { default as picomatch } from "npm:picomatch@4.0.7";
export { parse as parseToml, TomlError } from "npm:smol-toml@1.9.1";
export { fileURLToPath } from "node:url";

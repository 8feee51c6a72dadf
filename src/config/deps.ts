/**
 * The jobs file's outside import, as a full specifier (see src/deps.ts): smol-toml parses
 * fanout.toml on the main thread only, so a destination's worker never loads it.
 */
export { parse as parseToml, TomlError } from "npm:smol-toml@1.9.1";

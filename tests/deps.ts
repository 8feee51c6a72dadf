/** Outside imports used only by tests and benchmarks, as full specifiers. */
export { default as assert } from "node:assert/strict";
export { default as fc } from "npm:fast-check@4.11.0";
export { fileURLToPath } from "node:url";
export { parseArgs } from "node:util";

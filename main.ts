/**
 * fanout: back up one folder to several destinations at once, each at its own speed, and
 * prove every copy by reading it back.
 *
 * @example
 * deno run --allow-read --allow-write --allow-ffi --allow-sys --allow-env main.ts backup ~/card /mnt/ssd/card
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));

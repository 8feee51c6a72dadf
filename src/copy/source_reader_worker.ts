/// <reference lib="deno.worker" />
/**
 * The Web Worker entry of the SourceReader: serves one destination's read requests, then
 * says it is done. Created from `new URL(..., import.meta.url)` so it loads from a URL and
 * from a compiled binary alike.
 */
import { libcAtHand } from "../libc.ts";
import { serveReads, type SourceReaderJob } from "./source_reader.ts";

self.onmessage = async (event: MessageEvent<SourceReaderJob>) => {
  const libc = libcAtHand();
  if (libc) await serveReads(event.data, libc);
  self.postMessage("done");
};

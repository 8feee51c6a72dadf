/// <reference lib="deno.worker" />
/**
 * The Web Worker entry of one destination: wires the coordinator's messages to its
 * DestinationRun. Created from `new URL(..., import.meta.url)` so it loads from a URL and
 * from a compiled binary alike.
 */
import { describeError } from "../errors.ts";
import type { FromWorker, ToWorker } from "../coordinator/messages.ts";
import { DestinationRun } from "./destination_run.ts";

const post = (message: FromWorker) => self.postMessage(message);
let run: DestinationRun | null = null;

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      try {
        using current = run = new DestinationRun(message.job, post);
        await current.execute();
      } catch (error) {
        post({ type: "failed", message: `internal error: ${describeError(error)}` });
      }
      break;
    case "stop":
      run?.stop();
      break;
  }
};

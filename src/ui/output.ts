/** Synchronous writes to stdout and stderr, so lines keep their order and are never torn. */

const encoder = new TextEncoder();

function writeAllSync(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  for (let written = 0; written < bytes.length;) {
    written += stream.writeSync(bytes.subarray(written));
  }
}

export const writeStdout = (text: string): void => writeAllSync(Deno.stdout, text);
export const writeStderr = (text: string): void => writeAllSync(Deno.stderr, text);

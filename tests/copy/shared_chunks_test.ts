/**
 * SharedChunks: a chunk one destination read is taken by the others byte for byte; a chunk is
 * claimed only while another destination has yet to pass it, and only once; one that comes
 * while a chunk is being read waits for that read, and only for so long; slots every
 * destination that wanted them has taken are the first to be reused. The last tests run
 * readers and writers in real workers on one memory and check every byte taken.
 */
import { assert } from "../deps.ts";
import {
  FILL_WAIT_MIN_MS,
  FILL_WAIT_MS,
  SharedChunks,
  sharedChunksMemory,
  SMALL_CHUNK,
  TakenColumn,
} from "../../src/copy/shared_chunks.ts";
import { CHUNK_SIZE } from "../../src/verify/hashers.ts";

/** `length` bytes that tell file, offset and position apart. */
function pattern(file: number, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (file * 31 + offset / 4096 * 7 + i * 13) & 0xff;
  return bytes;
}

/**
 * Two destinations' views of one memory for `files` files; with `readsMs`, reads of claimed
 * chunks are taken to have lasted that long as a rule (a take waits 4 times that for one),
 * and without, no read has been timed yet (a take waits FILL_WAIT_MS).
 */
function twoDestinations(files = 4, { readsMs = 0 } = {}) {
  const memory = sharedChunksMemory(2, files, { small: 16, large: 4 });
  for (const pool of memory.pools) pool.fillMicros[0] = readsMs * 1000;
  return [new SharedChunks(memory, 0), new SharedChunks(memory, 1)];
}

Deno.test("a chunk one destination read is taken by another, byte for byte", async () => {
  const [first, second] = twoDestinations();
  for (const [file, offset, length] of [[0, 0, 3000], [1, CHUNK_SIZE, CHUNK_SIZE], [2, 0, 0]]) {
    const chunk = pattern(file, offset, length);
    first.claim(file, offset, length)!.fill(chunk);
    const into = new Uint8Array(length);
    assert.equal(await second.take(file, offset, into), "chunk");
    assert.deepEqual(into, chunk);
  }
});

Deno.test("one destination starts a file's read ahead; the others find it started", () => {
  const [first, second] = twoDestinations(8);
  assert.equal(first.firstAhead(3), true);
  assert.equal(second.firstAhead(3), false);
  assert.equal(first.firstAhead(3), false);
  assert.equal(second.firstAhead(4), true, "each file on its own");
});

Deno.test("only the same file, offset and length match", async () => {
  const [first, second] = twoDestinations();
  first.claim(1, 0, 100)!.fill(pattern(1, 0, 100));
  assert.equal(await second.take(1, 0, new Uint8Array(99)), "none");
  assert.equal(await second.take(1, SMALL_CHUNK, new Uint8Array(100)), "none");
  assert.equal(await second.take(2, 0, new Uint8Array(100)), "none");
  assert.equal(await second.take(1, 0, new Uint8Array(100)), "chunk");
});

Deno.test("a whole file filled after its source check is taken as checked", async () => {
  const [first, second] = twoDestinations();
  first.claim(3, 0, 10)!.fill(pattern(3, 0, 10), true);
  assert.equal(await second.take(3, 0, new Uint8Array(10)), "checked");
});

Deno.test("a whole file's digest comes with it; a chunk's, or one not sent, does not", async () => {
  const [first, second] = twoDestinations();
  const digest = "0123456789abcdef".repeat(4);
  first.claim(0, 0, 10)!.fill(pattern(0, 0, 10), true, digest);
  first.claim(1, 0, 10)!.fill(pattern(1, 0, 10), true);
  first.claim(2, 0, 10)!.fill(pattern(2, 0, 10), false, digest);
  // A slot used again for another file keeps no digest of the one before.
  first.claim(3, 0, 10)!.fill(pattern(3, 0, 10), true, digest.slice(0, 32));
  const into = new Uint8Array(10);
  assert.deepEqual(await second.obtain(0, 0, into), { taken: "checked", digest });
  assert.deepEqual(into, pattern(0, 0, 10));
  assert.deepEqual(await second.obtain(1, 0, into), { taken: "checked", digest: null });
  assert.deepEqual(await second.obtain(2, 0, into), { taken: "chunk", digest: null });
  assert.deepEqual(await second.obtain(3, 0, into), {
    taken: "checked",
    digest: digest.slice(0, 32),
  });
});

Deno.test("a chunk too big for any slot is neither claimed nor taken", async () => {
  const [first, second] = twoDestinations();
  assert.equal(first.claim(0, 0, CHUNK_SIZE + 1), null);
  assert.equal(await second.take(0, 0, new Uint8Array(CHUNK_SIZE + 1)), "none");
});

Deno.test("nothing is claimed for a file no other destination will read", () => {
  const [first, second] = twoDestinations();
  second.release(0);
  assert.equal(first.claim(0, 0, 10), null);
  assert.notEqual(first.claim(1, 0, 10), null);
  second.releaseAll();
  assert.equal(first.claim(2, 0, 10), null);
});

Deno.test("a chunk is claimed only while another destination has yet to pass it", () => {
  const memory = sharedChunksMemory(3, 2, { small: 16, large: 8 });
  const [lead, middle, last] = [0, 1, 2].map((i) => new SharedChunks(memory, i));
  for (let k = 0; k < 3; k++) lead.passed(0, k * CHUNK_SIZE);
  middle.passed(0, 0);
  // The last one has yet to pass chunk 1: the middle one claims it for it.
  const claim = middle.claim(0, CHUNK_SIZE, CHUNK_SIZE);
  assert.notEqual(claim, null);
  claim!.abandon();
  last.passed(0, CHUNK_SIZE);
  assert.equal(middle.claim(0, CHUNK_SIZE, CHUNK_SIZE), null, "both others passed it");
  assert.notEqual(middle.claim(0, 3 * CHUNK_SIZE, CHUNK_SIZE), null, "none passed chunk 3");
  assert.notEqual(last.claim(1, 0, CHUNK_SIZE), null, "another file, another progress");
});

Deno.test("two claims of one chunk at the same moment make one read, and obtain takes it", async () => {
  const [first, second] = twoDestinations();
  const claim = first.claim(0, 0, 100)!;
  // A second claim finds the first one's slot: it yields, and obtain waits for that read.
  assert.equal(second.claim(0, 0, 100), null);
  const into = new Uint8Array(100);
  const got = second.obtain(0, 0, into);
  setTimeout(() => claim.fill(pattern(0, 0, 100)), 20);
  assert.deepEqual(await got, { taken: "chunk", digest: null });
  assert.deepEqual(into, pattern(0, 0, 100));
  // With nothing there, obtain hands out a claim.
  const fresh = await second.obtain(1, 0, into);
  assert.equal(fresh.taken, "none");
  assert.ok(fresh.taken === "none" && fresh.claim !== null);
});

Deno.test("a take while the chunk is being read waits for that read", async () => {
  const [first, second] = twoDestinations();
  const claim = first.claim(0, 0, 500)!;
  const into = new Uint8Array(500);
  const started = performance.now();
  const taken = second.take(0, 0, into);
  setTimeout(() => claim.fill(pattern(0, 0, 500)), 50);
  assert.equal(await taken, "chunk");
  assert.ok(performance.now() - started >= 40, "it waited for the fill");
  assert.deepEqual(into, pattern(0, 0, 500));
});

Deno.test("a take waiting for a read that is abandoned finds nothing", async () => {
  const [first, second] = twoDestinations();
  const claim = first.claim(0, 0, 500)!;
  const taken = second.take(0, 0, new Uint8Array(500));
  setTimeout(() => claim.abandon(), 20);
  assert.equal(await taken, "none");
  // The slot is free again: the next read claims and fills it.
  first.claim(0, SMALL_CHUNK, 500)!.fill(pattern(0, SMALL_CHUNK, 500));
  assert.equal(await second.take(0, SMALL_CHUNK, new Uint8Array(500)), "chunk");
});

Deno.test("a take waits for a read in flight FILL_WAIT_MIN_MS while reads have been quick, then reads for itself", async () => {
  const [first, second] = twoDestinations(4, { readsMs: 1 });
  const claim = first.claim(0, 0, 500)!;
  const started = performance.now();
  assert.equal(await second.take(0, 0, new Uint8Array(500)), "none");
  const waited = performance.now() - started;
  assert.ok(waited >= FILL_WAIT_MIN_MS - 10 && waited < FILL_WAIT_MIN_MS + 300, `${waited} ms`);
  claim.abandon();
});

Deno.test("a take waits for a read in flight four times as long as reads of its size take", async () => {
  const [first, second] = twoDestinations(8);
  // Small chunks read in 150 ms (the first timed read sets the mean), big ones not timed.
  await Promise.all([1, 2, 3].map((file) => {
    const claim = first.claim(file, 0, 10)!;
    return new Promise((done) => setTimeout(done, 150)).then(() => claim.fill(new Uint8Array(10)));
  }));
  const claim = first.claim(0, 0, 500)!;
  let started = performance.now();
  assert.equal(await second.take(0, 0, new Uint8Array(500)), "none");
  let waited = performance.now() - started;
  assert.ok(waited >= 450 && waited < FILL_WAIT_MS - 50, `waited ${waited} ms, about 4 × 150`);
  claim.abandon();
  // A big chunk: no read of one was timed, so FILL_WAIT_MS.
  const big = first.claim(4, 0, CHUNK_SIZE)!;
  started = performance.now();
  assert.equal(await second.take(4, 0, new Uint8Array(CHUNK_SIZE)), "none");
  waited = performance.now() - started;
  assert.ok(waited >= FILL_WAIT_MS - 20, `waited ${waited} ms`);
  big.abandon();
});

Deno.test("a fill of another length than claimed frees the slot and throws", async () => {
  const [first, second] = twoDestinations();
  const claim = first.claim(0, 0, 500)!;
  assert.throws(() => claim.fill(new Uint8Array(499)), RangeError);
  assert.equal(await second.take(0, 0, new Uint8Array(500)), "none");
  assert.notEqual(first.claim(1, 0, 500), null, "the slot can be claimed again");
});

Deno.test("when the slots run out, the oldest chunk goes, and a chunk every other destination took goes first", async () => {
  // One set of 8 large slots, shared by 3 destinations.
  const memory = sharedChunksMemory(3, 20, { small: 8, large: 8 });
  const [lead, second, third] = [0, 1, 2].map((i) => new SharedChunks(memory, i));
  const fill = (file: number) =>
    lead.claim(file, 0, CHUNK_SIZE)!.fill(pattern(file, 0, CHUNK_SIZE));
  for (let file = 0; file < 8; file++) fill(file);
  // File 5 is taken by both others; file 0 is the oldest.
  await second.take(5, 0, new Uint8Array(CHUNK_SIZE));
  await third.take(5, 0, new Uint8Array(CHUNK_SIZE));
  fill(8);
  assert.equal(await second.take(5, 0, new Uint8Array(CHUNK_SIZE)), "none", "5 was replaced");
  assert.equal(await second.take(0, 0, new Uint8Array(CHUNK_SIZE)), "chunk", "0 is still here");
  fill(9);
  assert.equal(await third.take(0, 0, new Uint8Array(CHUNK_SIZE)), "none", "then the oldest");
  assert.equal(await third.take(1, 0, new Uint8Array(CHUNK_SIZE)), "chunk");
});

Deno.test("no chunk finds a slot while every slot of its set is being filled", async () => {
  const memory = sharedChunksMemory(2, 20, { small: 8, large: 8 });
  const [lead, other] = [new SharedChunks(memory, 0), new SharedChunks(memory, 1)];
  // With 8 large slots all held by writers, no ninth chunk finds a slot.
  const claims = Array.from({ length: 8 }, (_, file) => lead.claim(file, 0, CHUNK_SIZE)!);
  assert.ok(claims.every((claim) => claim !== null));
  assert.equal(lead.claim(8, 0, CHUNK_SIZE), null);
  claims.forEach((claim, file) => claim.fill(pattern(file, 0, CHUNK_SIZE)));
  assert.equal(await other.take(3, 0, new Uint8Array(CHUNK_SIZE)), "chunk");
});

Deno.test("TakenColumn keeps whole files in a byte and parts in a map", () => {
  const column = new TakenColumn(4);
  column.set(0, 100, 100);
  column.set(1, 5 * CHUNK_SIZE, 2 * CHUNK_SIZE);
  column.set(2, 50, 0);
  column.set(3, 0, 0);
  assert.deepEqual([0, 1, 2, 3].map((i) => column.get(i, [100, 5 * CHUNK_SIZE, 50, 0][i])), [
    100,
    2 * CHUNK_SIZE,
    0,
    0,
  ]);
  column.set(1, 5 * CHUNK_SIZE, 0);
  assert.equal(column.get(1, 5 * CHUNK_SIZE), 0);
});

/**
 * Runs `source` in one worker per message of `messages`, each posted with the URL of
 * shared_chunks.ts as `module`, and gathers what each posts back when it is done.
 */
async function inWorkers(
  source: string,
  messages: Record<string, unknown>[],
): Promise<{ taken: number; wrong: number }[]> {
  const module = new URL("../../src/copy/shared_chunks.ts", import.meta.url).href;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return await Promise.all(messages.map((message) => {
      const worker = new Worker(url, { type: "module" });
      return new Promise<{ taken: number; wrong: number }>((resolve, reject) => {
        worker.onmessage = (event) => {
          worker.terminate();
          resolve(event.data);
        };
        worker.onerror = (event) => {
          worker.terminate();
          reject(new Error(event.message));
        };
        worker.postMessage({ module, ...message });
      });
    }));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * A worker that, as a destination, walks `files` files of `chunks` chunks each, takes each
 * chunk or else claims it and fills it with its pattern, and checks every byte it took. The
 * workers start together, and each chunk costs a turn of the event loop, as a read would.
 */
const WORKER = `
const pattern = ${pattern.toString()};
self.onmessage = async ({ data: { module, memory, seat, start, files, chunks, length } }) => {
  const { SharedChunks } = await import(module);
  const shared = new SharedChunks(memory, seat);
  Atomics.add(start, 0, 1);
  while (Atomics.load(start, 0) < 3) Atomics.wait(start, 0, Atomics.load(start, 0), 10);
  const into = new Uint8Array(length);
  let taken = 0, wrong = 0;
  for (let file = 0; file < files; file++) {
    for (let k = 0; k < chunks; k++) {
      const offset = k * length;
      await new Promise((done) => setTimeout(done, 0));
      const got = await shared.obtain(file, offset, into);
      if (got.taken !== "none") {
        taken++;
        const want = pattern(file, offset, length);
        if (into.some((byte, i) => byte !== want[i])) wrong++;
      } else got.claim?.fill(pattern(file, offset, length));
      shared.passed(file, offset);
    }
    shared.release(file);
  }
  self.postMessage({ taken, wrong });
};`;

Deno.test("three destinations in real workers take only whole, right chunks from one memory", async () => {
  const files = 200;
  const chunks = 8;
  const length = 48 * 1024;
  const memory = sharedChunksMemory(3, files, { small: 64, large: 8 });
  const start = new Int32Array(new SharedArrayBuffer(4));
  const results = await inWorkers(
    WORKER,
    [0, 1, 2].map((seat) => ({ memory, seat, start, files, chunks, length })),
  );
  assert.deepEqual(results.map((r) => r.wrong), [0, 0, 0], "no torn or wrong chunk was taken");
  const taken = results.reduce((sum, r) => sum + r.taken, 0);
  // Of 3 × 1,600 chunks needed, 1,600 are read first; many of the others are taken, enough
  // for the check of their bytes to mean something (about half, run here).
  assert.ok(taken > files * chunks / 4, `${taken} chunks taken`);
});

/**
 * A writer that keeps filling new chunks into a set of 8 slots, each new one replacing the
 * oldest, and readers that keep taking the oldest ones, about to be replaced: a writer that
 * did not wait for a reader's pin would tear the chunk under it.
 */
const CHURN = `
self.onmessage = async ({ data: { module, memory, latest, role, rounds, length } }) => {
  const { SharedChunks } = await import(module);
  const shared = new SharedChunks(memory, role === "writer" ? 0 : 1);
  const into = new Uint8Array(length);
  let taken = 0, wrong = 0;
  if (role === "writer") {
    const chunk = new Uint8Array(length);
    for (let file = 0; file < rounds; file++) {
      shared.claim(file, 0, length)?.fill(chunk.fill(file % 251));
      Atomics.store(latest, 0, file);
      if (file % 64 === 0) await new Promise((done) => setTimeout(done, 0));
    }
    Atomics.store(latest, 1, 1);
  } else {
    while (Atomics.load(latest, 1) === 0) {
      const file = Atomics.load(latest, 0) - 7 + (taken % 3);
      if (file < 0 || await shared.take(file, 0, into) === "none") continue;
      taken++;
      // A torn chunk holds a run of another chunk's bytes.
      for (let i = 0; i < length; i += 256) {
        if (into[i] !== file % 251) {
          wrong++;
          break;
        }
      }
    }
  }
  self.postMessage({ taken, wrong });
};`;

Deno.test("a writer never replaces a chunk under a reader's pin (the oldest chunks, taken as they go)", async () => {
  const rounds = 100_000;
  const length = SMALL_CHUNK;
  const memory = sharedChunksMemory(2, rounds, { small: 8, large: 8 });
  const latest = new Int32Array(new SharedArrayBuffer(8));
  const results = await inWorkers(
    CHURN,
    ["writer", "reader", "reader"].map((role) => ({ memory, latest, role, rounds, length })),
  );
  assert.deepEqual(results.map((r) => r.wrong), [0, 0, 0], "no torn chunk was taken");
  assert.ok(results[1].taken + results[2].taken > 1000, "the readers took chunks all along");
});

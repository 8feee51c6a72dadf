/**
 * TextBuffer: text in any script comes back as its UTF-8, past the first capacity too, and its
 * buffer is kept for what comes next.
 */
import { assert, fc } from "./deps.ts";
import { cStrings, encodeAt, hexString, TextBuffer } from "../src/text_buffer.ts";

Deno.test("appended text comes back as UTF-8, with the NULs asked for, and take starts over", () => {
  const buffer = new TextBuffer(8);
  const texts = ["caf\u00e9", "\u5199\u771f/\u6771\u4eac.jpg", "\u{1F4F7}", "x".repeat(100)];
  for (const text of texts) buffer.append(text, true);
  buffer.append("tail");
  const expected = new TextEncoder().encode(texts.map((text) => `${text}\0`).join("") + "tail");
  assert.equal(buffer.length, expected.length);
  assert.deepEqual(buffer.take(), expected);
  assert.equal(buffer.length, 0);
  buffer.append("again\n");
  assert.deepEqual(new TextDecoder().decode(buffer.take()), "again\n");
});

Deno.test("view shows what is held in place, and clear keeps the buffer for what comes next", () => {
  const buffer = new TextBuffer(4);
  buffer.append("\u6771\u4eac\n");
  const first = buffer.view();
  assert.deepEqual(first, new TextEncoder().encode("\u6771\u4eac\n"));
  buffer.clear();
  assert.equal(buffer.length, 0);
  assert.equal(buffer.view().length, 0);
  buffer.append("a\n");
  assert.deepEqual(buffer.view(), new TextEncoder().encode("a\n"));
  assert.equal(buffer.view().buffer, first.buffer, "the same memory, not a new buffer");
});

Deno.test("bytes, ASCII and hex append as they are, past the first capacity too", () => {
  const buffer = new TextBuffer(2);
  buffer.append('{"size":');
  buffer.appendBytes(new TextEncoder().encode("\u6771\u4eac"));
  buffer.appendHex(new Uint8Array([0x00, 0x0f, 0xa5, 0xff]));
  buffer.append("\u{1F4F7}");
  assert.equal(new TextDecoder().decode(buffer.take()), '{"size":\u6771\u4eac000fa5ff\u{1F4F7}');
});

Deno.test("encodeAt writes any text as TextEncoder encodes it, short or long, ASCII or not", () => {
  const ascii = fc.string({
    unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
    maxLength: 300,
  });
  const text = fc.oneof(
    ascii,
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.tuple(ascii, fc.string({ unit: "binary", maxLength: 4 })).map(([a, b]) => a + b),
  );
  fc.assert(
    fc.property(text, fc.integer({ min: 0, max: 5 }), (value, at) => {
      const into = new Uint8Array(at + 3 * value.length).fill(0xee);
      const end = encodeAt(value, into, at);
      assert.deepEqual(into.subarray(at, end), new TextEncoder().encode(value));
      assert.ok(into.subarray(0, at).every((byte) => byte === 0xee), "nothing before `at` written");
    }),
    { numRuns: 500 },
  );
});

Deno.test("appendNumber writes any number as String does", () => {
  const number = fc.oneof(
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(0, 9, 10, 99, 100, 2 ** 53 - 1, 2 ** 53, -0, -1, 1e21, 0.5, NaN),
    fc.double(),
  );
  const buffer = new TextBuffer(1);
  fc.assert(
    fc.property(number, (value) => {
      buffer.appendNumber(value);
      assert.equal(new TextDecoder().decode(buffer.take()), String(value));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("hexString gives any bytes in lowercase hex, call after call", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const expected = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
      assert.equal(hexString(bytes), expected);
    }),
  );
});

Deno.test("cStrings gives NUL-terminated UTF-8 in one buffer, grown for a longer text", () => {
  const cString = cStrings();
  const decode = (bytes: Uint8Array) =>
    new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  const short = cString("/ssd/é.jpg");
  assert.equal(decode(short), "/ssd/é.jpg");
  assert.equal(cString("/b"), short, "the same buffer, overwritten");
  const long = "/nas/" + "ä".repeat(2000);
  const grown = cString(long);
  assert.equal(decode(grown), long);
  assert.equal(grown[new TextEncoder().encode(long).length], 0);
});

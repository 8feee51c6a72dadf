/** Numbers for people: byte sizes, durations, counts and speeds. */
import { assert, fc } from "./deps.ts";
import { formatBytes, formatCount, formatDuration, formatRate } from "../src/format.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

Deno.test("formatBytes: whole bytes below 1 KiB, then binary units", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [10 * 1024, "10.0 KiB"],
    [300_000, "293.0 KiB"],
    [2 ** 20, "1.00 MiB"],
    [3 * 2 ** 20 + 17, "3.00 MiB"],
    [1.5 * 2 ** 30, "1.50 GiB"],
    [2 ** 40, "1.00 TiB"],
    [2 ** 50, "1.00 PiB"],
    [2 ** 60, "1024.0 PiB"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatBytes(bytes), text, String(bytes));
});

/** The number of bytes a formatted size stands for. */
function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?) (\w+)$/.exec(text);
  assert.ok(match, `"${text}" is "<number> <unit>"`);
  const unit = UNITS.indexOf(match[2]);
  assert.ok(unit >= 0, `"${text}" has a known unit`);
  return Number(match[1]) * 1024 ** unit;
}

Deno.test("formatBytes stands for the size within half a percent", () => {
  fc.assert(
    fc.property(fc.oneof(fc.nat(4096), fc.nat({ max: 2 ** 53 - 1 })), (bytes) => {
      const shown = parseBytes(formatBytes(bytes));
      assert.ok(
        Math.abs(shown - bytes) <= bytes * 0.005,
        `${bytes} shown as ${formatBytes(bytes)}`,
      );
    }),
    { numRuns: 2000 },
  );
});

Deno.test("formatDuration: tenths under 10 s, whole seconds, then minutes, then hours", () => {
  const cases: [number, string][] = [
    [0, "0.0 s"],
    [250, "0.3 s"],
    [9_900, "9.9 s"],
    [10_000, "10 s"],
    [59_400, "59 s"],
    [60_000, "1 min 00 s"],
    [83_400, "1 min 23 s"],
    [59 * 60_000 + 59_000, "59 min 59 s"],
    [3_600_000, "1 h 00 min"],
    [3_600_000 + 5 * 60_000 + 40_000, "1 h 05 min"],
    [26 * 3_600_000, "26 h 00 min"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

Deno.test("formatCount groups digits by three with commas", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [999, "999"],
    [1000, "1,000"],
    [12_345, "12,345"],
    [1_234_567, "1,234,567"],
  ];
  for (const [count, text] of cases) assert.equal(formatCount(count), text);
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 53 - 1 }), (count) => {
      const text = formatCount(count);
      assert.match(text, /^\d{1,3}(,\d{3})*$/);
      assert.equal(Number(text.replaceAll(",", "")), count);
    }),
  );
});

Deno.test("formatRate is bytes per second, or a dash when there is nothing to average", () => {
  assert.equal(formatRate(10 * 2 ** 20, 2000), "5.00 MiB/s");
  assert.equal(formatRate(150 * 2 ** 20, 1000), "150.0 MiB/s");
  assert.equal(formatRate(512, 1000), "512 B/s");
  assert.equal(formatRate(0, 1000), "—");
  assert.equal(formatRate(2 ** 20, 0), "—");
});

// A size just below a unit boundary once rounded up to "1024.0" of the smaller unit
// (1048575 → "1024.0 KiB", 1023.6 → "1024 B") instead of "1.00" of the next one.
Deno.test({
  name: "formatBytes never shows 1024 of a unit when a larger unit exists",
  fn: () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** 50, noNaN: true }), (bytes) => {
        const [number, unit] = formatBytes(bytes).split(" ");
        assert.ok(unit === "PiB" || Number(number) < 1024, `${bytes} → ${formatBytes(bytes)}`);
      }),
      { examples: [[1048575], [1023.6], [2 ** 30 - 1]] },
    );
  },
});

/** Option parsers: rates in binary units, priorities, --limit, --workers. */
import { assert } from "../deps.ts";
import { InvalidArgumentError } from "../../src/cli/deps.ts";
import { UsageError } from "../../src/errors.ts";
import {
  destinationRates,
  parseDestinationLimit,
  parsePriority,
  parseRate,
  workerCount,
} from "../../src/cli/options.ts";

Deno.test("parseRate reads binary units with or without /s", () => {
  const cases: [string, number][] = [
    ["24MiB/s", 24 * 2 ** 20],
    ["24M", 24 * 2 ** 20],
    ["24MB/s", 24 * 2 ** 20],
    ["500K", 500 * 1024],
    ["500k", 500 * 1024],
    ["1.5G", 1.5 * 2 ** 30],
    ["800000", 800_000],
    ["100B/s", 100],
    [" 2 MiB/s ", 2 * 2 ** 20],
  ];
  for (const [text, rate] of cases) assert.equal(parseRate(text), rate, text);
});

Deno.test("parseRate refuses what is not a positive rate", () => {
  for (const text of ["", "fast", "0", "0.5", "-5M", "5Q", "5 M/h", "1e6", "M"]) {
    assert.throws(() => parseRate(text), InvalidArgumentError, text);
  }
});

Deno.test("parsePriority splits at the last = and checks the level", () => {
  assert.deepEqual(parsePriority("*.CR3=high"), { pattern: "*.CR3", priority: "high" });
  assert.deepEqual(parsePriority("a=b/*.jpg=low"), { pattern: "a=b/*.jpg", priority: "low" });
  for (const text of ["*.CR3", "=high", "*.CR3=urgent", "*.CR3=HIGH"]) {
    assert.throws(() => parsePriority(text), InvalidArgumentError, text);
  }
});

Deno.test("destinationRates applies --bwlimit to all and --limit to the one it names", () => {
  const destinations = ["/mnt/ssd/card", "/mnt/nas/card", "usb/card"];
  assert.deepEqual(destinationRates(destinations, null, []), [null, null, null]);
  assert.deepEqual(destinationRates(destinations, 100, []), [100, 100, 100]);
  const limits = [
    parseDestinationLimit("/mnt/nas/card=1K"),
    parseDestinationLimit("3=2K"),
  ];
  assert.deepEqual(destinationRates(destinations, 100, limits), [100, 1024, 2048]);
  assert.deepEqual(destinationRates(destinations, null, [parseDestinationLimit("./usb/card=1K")]), [
    null,
    null,
    1024,
  ]);
  assert.throws(
    () => destinationRates(destinations, null, [parseDestinationLimit("4=1K")]),
    UsageError,
  );
  assert.throws(() => parseDestinationLimit("/mnt/nas/card"), InvalidArgumentError);
});

Deno.test("workerCount takes auto or 1 to 64", () => {
  assert.equal(workerCount("auto"), "auto");
  assert.equal(workerCount("8"), 8);
  for (const text of ["0", "65", "two", "1.5", "Auto"]) {
    assert.throws(() => workerCount(text), InvalidArgumentError, text);
  }
});

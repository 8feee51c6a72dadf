/** Parsers for option values: a bad value is a one-line usage error naming the option. */
import { InvalidArgumentError } from "../deps.ts";
import type { EventSink } from "../coordinator/events.ts";
import { jsonRenderer } from "../ui/json.ts";
import { plainRenderer } from "../ui/plain.ts";

/**
 * A parser for a whole number from `min` to `max`, for commander.
 *
 * @example
 * wholeNumber(1, 64)("8"); // 8
 */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return number;
  };
}

/** The renderer for a command's output options. */
export function rendererFor(options: { json?: boolean }): EventSink {
  return options.json ? jsonRenderer() : plainRenderer();
}

/**
 * SHA256SUMS in GNU coreutils format, so `sha256sum -c` checks a destination without
 * fanout: "<hex>  <path>" per line. A name with "\", a newline or a carriage return is
 * escaped as coreutils does: the line starts with "\" and those characters are written
 * as \\, \n and \r.
 */

export interface SumLine {
  sha256: string;
  path: string;
}

/**
 * One line of SHA256SUMS, without its line feed.
 *
 * @example
 * formatSumLine({ sha256: "ab…", path: "a\nb" }); // "\\ab…  a\\nb"
 */
export function formatSumLine({ sha256, path }: SumLine): string {
  if (!/[\\\n\r]/.test(path)) return `${sha256}  ${path}`;
  const escaped = path.replace(
    /[\\\n\r]/g,
    (c) => c === "\\" ? "\\\\" : c === "\n" ? "\\n" : "\\r",
  );
  return `\\${sha256}  ${escaped}`;
}

/** The whole file: one line per entry, each ending in a line feed. */
export function formatSums(lines: Iterable<SumLine>): string {
  let text = "";
  for (const line of lines) text += formatSumLine(line) + "\n";
  return text;
}

/**
 * Reads SHA256SUMS text (text or binary mode markers, escaped names). Throws with the line
 * number on a line that is not in that format.
 */
export function parseSums(text: string): SumLine[] {
  const result: SumLine[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, index) => {
    const match = /^(\\?)([0-9a-fA-F]{64}) [ *](.*)$/s.exec(raw);
    if (!match) throw new Error(`line ${index + 1}: not a SHA256SUMS line`);
    const [, escaped, sha256, name] = match;
    const path = escaped
      ? name.replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c === "r" ? "\r" : c)
      : name;
    result.push({ sha256: sha256.toLowerCase(), path });
  });
  return result;
}

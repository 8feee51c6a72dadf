/**
 * Display width of text in a terminal: East Asian wide characters take two columns,
 * combining marks none. Enough to keep lines from wrapping; not a full wcwidth.
 */

const WIDE: [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if ((code >= 0x300 && code <= 0x36f) || (code >= 0x200b && code <= 0x200f)) return 0;
  return WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
}

/**
 * @example
 * displayWidth("東京.jpg"); // 8
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0)!);
  return width;
}

/**
 * The longest start of `text` that fits in `width` columns.
 *
 * @example
 * fitStart("東京.jpg", 3); // "東"
 */
export function fitStart(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const w = charWidth(char.codePointAt(0)!);
    if (used + w > width) break;
    used += w;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * `text` in exactly `width` columns: padded, or shortened from the left with "…" so that
 * the end of a path (its most telling part) stays.
 *
 * @example
 * fitEnd("/mnt/nas/photos/card", 10); // "…otos/card"
 */
export function fitEnd(text: string, width: number): string {
  const full = displayWidth(text);
  if (full <= width) return text + " ".repeat(width - full);
  const chars = [...text];
  let used = 1;
  let start = chars.length;
  while (start > 0 && used + charWidth(chars[start - 1].codePointAt(0)!) <= width) {
    start--;
    used += charWidth(chars[start].codePointAt(0)!);
  }
  return "…" + chars.slice(start).join("") + " ".repeat(width - used);
}

/** Numbers for people: binary byte units, short durations, grouped counts. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Bytes in binary units, three significant digits; never "1024.0 KiB" where "1.00 MiB" fits.
 *
 * @example
 * formatBytes(1536); // "1.50 KiB"
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) {
    const whole = Math.round(value);
    if (whole < 1024) return `${whole} B`;
    value /= 1024;
    unit = 1;
  }
  // Rounding may carry a value into the next unit (1023.96 KiB → "1024.0").
  let text = value.toFixed(2);
  if (Number(text) >= 10) text = value.toFixed(1);
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit++;
    text = (value / 1024).toFixed(2);
  }
  return `${text} ${UNITS[unit]}`;
}

/**
 * @example
 * formatDuration(83_400); // "1 min 23 s"
 */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/**
 * @example
 * formatCount(12345); // "12,345"
 */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Average speed, or "—" when there is nothing to average.
 *
 * @example
 * formatRate(10 * 2 ** 20, 2000); // "5.00 MiB/s"
 */
export function formatRate(bytes: number, ms: number): string {
  return ms > 0 && bytes > 0 ? `${formatBytes(bytes / (ms / 1000))}/s` : "—";
}

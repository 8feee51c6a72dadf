/** Numbers for people: binary byte units, short durations, grouped counts. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * @example
 * formatBytes(1536); // "1.5 KiB"
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${Math.round(bytes)} B`
    : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
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

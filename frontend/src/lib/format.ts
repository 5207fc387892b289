/** Small display helpers built on Intl (no date or size library shipped). */

const UNITS = ["B", "KB", "MB", "GB"] as const;

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

const STEPS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.345],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

let relative: Intl.RelativeTimeFormat | undefined;

// RFC 3339 with an offset (`Z`, `+09:00`); without one, `Date.parse` would read
// the time as the browser's local time.
const HAS_OFFSET = /(?:[zZ]|[+-]\d{2}:?\d{2})$/;

/**
 * Milliseconds since the epoch of an API timestamp, or NaN if unreadable.
 *
 * The API sends every time in UTC with its offset; a time without one (from
 * an older server) is UTC too, never the browser's local time.
 */
export function parseTimestamp(iso: string | null | undefined): number {
  if (!iso) {
    return Number.NaN;
  }
  const dateOnly = !iso.includes("T") && !iso.includes(" ");
  return Date.parse(HAS_OFFSET.test(iso) || dateOnly ? iso : `${iso}Z`);
}

/** "3 minutes ago", "yesterday", in the browser's zone; "" for a missing or unreadable time. */
export function formatRelative(when: string | number | null | undefined, now: number = Date.now()): string {
  const time = typeof when === "number" ? when : parseTimestamp(when);
  if (Number.isNaN(time)) {
    return "";
  }
  relative ??= new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  let delta = (time - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(delta) < size) {
      return relative.format(Math.round(delta), unit);
    }
    delta /= size;
  }
  return "";
}

/** Full date and time in the browser's zone, for a tooltip or a <time> title. */
export function formatDateTime(when: string | number): string {
  const time = typeof when === "number" ? when : parseTimestamp(when);
  return Number.isNaN(time)
    ? String(when)
    : new Date(time).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

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

/** "3 minutes ago", "yesterday"; "" for a missing or unreadable timestamp. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  const time = iso ? Date.parse(iso) : Number.NaN;
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

/** Full local date and time, for a tooltip or a <time> title. */
export function formatDateTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time)
    ? iso
    : new Date(time).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

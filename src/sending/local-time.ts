import { DigestError } from "../errors.js";

/**
 * Times staff type and read. `--at` takes an ISO time with an offset (exact), or a wall-clock
 * time with no offset, read in TIMEZONE: "2026-11-30 09:00" in America/New_York is 14:00 UTC.
 */
const withOffset = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const local = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

export function parseSendTime(text: string, timeZone: string): Date {
  const value = text.trim();
  if (withOffset.test(value)) {
    const date = new Date(value.replace(" ", "T"));
    if (!Number.isNaN(date.getTime())) return date;
  }
  const m = local.exec(value);
  if (!m)
    throw new DigestError(
      "invalid",
      `--at "${text}" is not a time: use "2026-12-01 09:00" (read in ${timeZone}) or an ISO time with an offset such as 2026-12-01T09:00:00-05:00`,
    );
  const [y, mo, d, h, mi, s] = m.slice(1).map((n) => Number(n ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    throw new DigestError("invalid", `--at "${text}" is not a real date and time`);
  // The offset at that wall time; asked twice so a time next to a DST change lands on the right side.
  let utc = wall - offsetMs(new Date(wall), timeZone);
  utc = wall - offsetMs(new Date(utc), timeZone);
  if (wallClock(new Date(utc), timeZone).getTime() !== wall)
    throw new DigestError("invalid", `--at "${text}" does not exist in ${timeZone} (the clocks skip it)`);
  return new Date(utc);
}

/** How far `timeZone` is ahead of UTC at `instant`, in ms. */
function offsetMs(instant: Date, timeZone: string): number {
  return wallClock(instant, timeZone).getTime() - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The wall-clock reading in `timeZone` at `instant`, as if it were UTC. */
export function wallClock(instant: Date, timeZone: string): Date {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return new Date(
    Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      Number(parts.second),
    ),
  );
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

/**
 * "09:00 America/New_York (14:00 UTC)", with the local date in front when it is not today there:
 * "2026-12-01 09:00 America/New_York (14:00 UTC)".
 */
export function describeTime(instant: Date, timeZone: string, now = new Date()): string {
  const there = wallClock(instant, timeZone);
  const today = day(wallClock(now, timeZone)) === day(there);
  const when = `${today ? "" : `${day(there)} `}${hhmm(there)}`;
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return `${when} UTC`;
  const utcDay = day(instant) === day(there) ? "" : `${day(instant)} `;
  return `${when} ${timeZone} (${utcDay}${hhmm(instant)} UTC)`;
}

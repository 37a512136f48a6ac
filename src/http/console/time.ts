import { DigestError } from "../../errors.js";
import { parseSendTime, wallClock } from "../../sending/local-time.js";

/**
 * Times shown to staff and typed by them are local to TIMEZONE; the database keeps UTC. Reading a
 * typed time is the CLI's `--at` rule (sending/local-time.ts), so both refuse the same mistakes.
 */

/** `2026-12-01T09:30` (an `<input type=datetime-local>` value) read in `timeZone`; undefined if it is no real time there. */
export function localToDate(value: string, timeZone: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/.test(value.trim())) return undefined;
  try {
    return parseSendTime(value, timeZone);
  } catch (error) {
    if (error instanceof DigestError) return undefined;
    throw error;
  }
}

/** The value an `<input type=datetime-local>` shows for `date` in `timeZone`. */
export function dateToLocal(date: Date, timeZone: string): string {
  return wallClock(date, timeZone).toISOString().slice(0, 16);
}

export function showTime(date: Date | null | undefined, timeZone: string): string {
  if (!date) return "—";
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(date);
}

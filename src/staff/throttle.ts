import { and, gt, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { staffLoginFailures } from "../db/schema.js";

/**
 * Login throttling per email and per client address, counted in Postgres so every server sees the
 * same failures. After `freeFailures` failures in the window each attempt waits longer (doubling,
 * up to `maxDelayMs`); past the limit it is refused outright. A successful login clears the email's
 * count, not the client's: one office behind one address must not unlock a guessed account.
 */
export const loginLimits = {
  windowMinutes: 15,
  freeFailures: 3,
  maxDelayMs: 1600,
  perEmail: 10,
  perClient: 30,
} as const;

export type LoginVerdict = { refused: true } | { refused: false; delayMs: number };

const keysFor = (email: string, client: string | undefined) => [
  `email:${email.trim().toLowerCase()}`,
  ...(client ? [`ip:${client}`] : []),
];

export async function loginVerdict(db: Db, email: string, client: string | undefined): Promise<LoginVerdict> {
  const since = sql`now() - make_interval(mins => ${loginLimits.windowMinutes})`;
  const rows = await db
    .select({ key: staffLoginFailures.key, n: sql<number>`count(*)::int` })
    .from(staffLoginFailures)
    .where(
      and(inArray(staffLoginFailures.key, keysFor(email, client)), gt(staffLoginFailures.createdAt, since)),
    )
    .groupBy(staffLoginFailures.key);
  const byEmail = rows.find((r) => r.key.startsWith("email:"))?.n ?? 0;
  const byClient = rows.find((r) => r.key.startsWith("ip:"))?.n ?? 0;
  if (byEmail >= loginLimits.perEmail || byClient >= loginLimits.perClient) return { refused: true };
  const over = Math.max(byEmail, Math.floor(byClient / 3)) - loginLimits.freeFailures;
  return { refused: false, delayMs: over < 0 ? 0 : Math.min(100 * 2 ** over, loginLimits.maxDelayMs) };
}

export async function recordLoginFailure(db: Db, email: string, client: string | undefined): Promise<void> {
  await db.insert(staffLoginFailures).values(keysFor(email, client).map((key) => ({ key })));
  // Old rows are no longer counted; dropping them here keeps the table small without a cron job.
  await db
    .delete(staffLoginFailures)
    .where(
      lt(staffLoginFailures.createdAt, sql`now() - make_interval(mins => ${loginLimits.windowMinutes * 2})`),
    );
}

export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.delete(staffLoginFailures).where(inArray(staffLoginFailures.key, keysFor(email, undefined)));
}

import { createHash } from "node:crypto";
import { and, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { staffLoginFailures } from "../db/schema.js";
import { limitKey } from "../limits.js";
import { addressKey } from "../subscribers/address.js";

/**
 * Login throttling per email and per client address, counted in Postgres so every server sees the
 * same failures. After `freeFailures` failures in the window each attempt waits longer (doubling,
 * up to `maxDelayMs`); past the limit it is refused outright, the right password included, until
 * failures leave the window. A successful login clears the email's count, not the client's: one
 * office behind one address must not unlock a guessed account.
 */
export const loginLimits = {
  windowMinutes: 15,
  freeFailures: 3,
  maxDelayMs: 1600,
  perEmail: 10,
  perClient: 30,
} as const;

export type LoginVerdict = { refused: true } | { refused: false; delayMs: number };

/**
 * The email is counted under the key `findStaff` looks the account up by, so every spelling that
 * signs in to one account (`ADMIN@Example.org`, a full-width `ｅｘａｍｐｌｅ.org` that IDNA folds)
 * shares one count; a known and an unknown address are keyed alike, so the throttle tells an
 * outsider nothing. Stored as a hash: a reader's address typed into the login form stays out of
 * the table. The client is counted as every other limiter counts it (IPv6 by its /64).
 */
function emailKey(email: string): string {
  let key: string;
  try {
    key = addressKey(email);
  } catch {
    // Not an address, so no account: any stable form will do, folded so it cannot be varied either.
    key = email.normalize("NFKC").trim().toLowerCase();
  }
  return `email:${createHash("sha256").update(`staff-login:${key}`).digest("hex")}`;
}

const keysFor = (email: string, client: string | undefined) => [
  emailKey(email),
  ...(client ? [`ip:${limitKey(client)}`] : []),
];

/** What the counts so far allow the next attempt: refused, or tried after a delay. */
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

/** An attempt let through: its delay, and the rows that count it until it proves to be right. */
export type LoginAttempt = { refused: true } | { refused: false; delayMs: number; rows: number[] };

/**
 * Takes a place for one login attempt before its password is checked: the attempt is counted as a
 * failure from the start (`loginSucceeded` takes it back). Checking the counts and adding to them
 * happen under a lock per key, so guesses sent all at once are counted one after another: without
 * that, forty guesses in flight together all read a count of zero and were all tried, undelayed.
 */
export async function startLoginAttempt(
  db: Db,
  email: string,
  client: string | undefined,
): Promise<LoginAttempt> {
  const keys = keysFor(email, client);
  const attempt = await db.transaction(async (tx): Promise<LoginAttempt> => {
    const txDb = tx as unknown as Db;
    // In one order everywhere, so two attempts sharing both keys cannot wait for each other.
    for (const key of [...keys].sort())
      await txDb.execute(sql`select pg_advisory_xact_lock(hashtext('digest-staff-login'), hashtext(${key}))`);
    const verdict = await loginVerdict(txDb, email, client);
    if (verdict.refused) return verdict;
    const rows = await txDb
      .insert(staffLoginFailures)
      .values(keys.map((key) => ({ key })))
      .returning({ id: staffLoginFailures.id });
    return { ...verdict, rows: rows.map((r) => r.id) };
  });
  // Old rows are no longer counted; dropping them here keeps the table small without a cron job.
  await db
    .delete(staffLoginFailures)
    .where(
      lt(staffLoginFailures.createdAt, sql`now() - make_interval(mins => ${loginLimits.windowMinutes * 2})`),
    );
  return attempt;
}

/**
 * The right password: the email's failures are cleared, and this attempt no longer counts against
 * its client either. The client's other failures stay (see the top of this file).
 */
export async function loginSucceeded(
  db: Db,
  email: string,
  attempt: Extract<LoginAttempt, { refused: false }>,
): Promise<void> {
  await db
    .delete(staffLoginFailures)
    .where(
      or(
        inArray(staffLoginFailures.key, keysFor(email, undefined)),
        inArray(staffLoginFailures.id, attempt.rows),
      ),
    );
}

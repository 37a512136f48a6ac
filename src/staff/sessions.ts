import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Staff, staff, staffSessions } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { isTokenShaped, newToken, tokenHash } from "./secret-token.js";

/**
 * Console sessions in Postgres, so signing out (or out everywhere) takes effect on every server
 * at once. The cookie carries a random id; the table keeps only its hash, so a leaked database
 * dump opens no session. A session ends after `idleMinutes` without a request, and after
 * `lifetimeHours` whatever happens.
 */
export const sessionLimits = { idleMinutes: 120, lifetimeHours: 12 } as const;

export interface Session {
  account: Staff;
  csrf: string;
  /** The stored hash of the cookie's id: names this session (to keep it) without the secret. */
  idHash: string;
}

export async function createSession(db: Db, account: Staff, now = new Date()): Promise<string> {
  const id = newToken();
  await db.insert(staffSessions).values({
    idHash: tokenHash(id),
    staffId: account.id,
    csrf: newToken(),
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + sessionLimits.lifetimeHours * 3600_000),
  });
  await recordAudit(db, { staffId: account.id, email: account.email }, "staff.login", account.email);
  return id;
}

/** The live session for a cookie value, touched (the idle clock restarts); undefined otherwise. */
export async function readSession(db: Db, id: string, now = new Date()): Promise<Session | undefined> {
  if (!isTokenShaped(id)) return undefined;
  const idleSince = new Date(now.getTime() - sessionLimits.idleMinutes * 60_000);
  const idHash = tokenHash(id);
  const [row] = await db
    .update(staffSessions)
    .set({ lastSeenAt: now })
    .where(
      and(
        eq(staffSessions.idHash, idHash),
        isNull(staffSessions.revokedAt),
        gt(staffSessions.expiresAt, now),
        gt(staffSessions.lastSeenAt, idleSince),
      ),
    )
    .returning({ staffId: staffSessions.staffId, csrf: staffSessions.csrf });
  if (!row) return undefined;
  const [account] = await db.select().from(staff).where(eq(staff.id, row.staffId));
  return account ? { account, csrf: row.csrf, idHash } : undefined;
}

export async function endSession(db: Db, id: string): Promise<void> {
  if (!isTokenShaped(id)) return;
  await db
    .update(staffSessions)
    .set({ revokedAt: sql`now()` })
    .where(eq(staffSessions.idHash, tokenHash(id)));
}

/**
 * Ends the account's sessions but the one named, if any: after a password change whoever held
 * the old password may hold a session too, and it must not outlive the password.
 */
export async function endOtherSessions(db: Db, staffId: string, keepIdHash?: string): Promise<number> {
  const ended = await db
    .update(staffSessions)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(staffSessions.staffId, staffId),
        isNull(staffSessions.revokedAt),
        keepIdHash === undefined ? undefined : ne(staffSessions.idHash, keepIdHash),
      ),
    )
    .returning({ id: staffSessions.idHash });
  return ended.length;
}

/** Signs the account out on every device; returns how many sessions ended. */
export async function endAllSessions(db: Db, account: Staff): Promise<number> {
  const ended = await db
    .update(staffSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(staffSessions.staffId, account.id), isNull(staffSessions.revokedAt)))
    .returning({ id: staffSessions.idHash });
  await recordAudit(
    db,
    { staffId: account.id, email: account.email },
    "staff.logout-everywhere",
    account.email,
    {
      sessions: ended.length,
    },
  );
  return ended.length;
}

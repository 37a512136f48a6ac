import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Staff, type StaffRole, staff, staffRoles, staffSetupTokens } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { addressKey, normaliseAddress } from "../subscribers/address.js";
import { type Actor, recordAudit } from "./audit.js";
import { hashPassword, passwordProblem, verifyPassword } from "./password.js";
import { isTokenShaped, newToken, tokenHash } from "./secret-token.js";
import { endOtherSessions, type Session } from "./sessions.js";

/**
 * Console accounts. A person is added with a role and gets a one-time setup link (24 h); the
 * password they choose there is stored only as a scrypt hash. Every change is written to the
 * audit log by the function that makes it, so no caller can forget.
 */
export const setupLinkHours = 24;

export function parseRole(value: unknown): StaffRole {
  if (typeof value === "string" && (staffRoles as readonly string[]).includes(value))
    return value as StaffRole;
  throw new DigestError("invalid", `the role must be one of ${staffRoles.join(", ")}`);
}

export async function findStaff(db: Db, email: string): Promise<Staff | undefined> {
  let key: string;
  try {
    key = addressKey(normaliseAddress(email));
  } catch {
    return undefined;
  }
  const [row] = await db.select().from(staff).where(sql`lower(${staff.email}) = ${key}`);
  return row;
}

export async function listStaff(db: Db): Promise<Staff[]> {
  return db.select().from(staff).orderBy(asc(staff.createdAt));
}

async function issueSetupToken(db: Db, staffId: string, now: Date): Promise<string> {
  const token = newToken();
  await db.insert(staffSetupTokens).values({
    tokenHash: tokenHash(token),
    staffId,
    expiresAt: new Date(now.getTime() + setupLinkHours * 3600_000),
  });
  return token;
}

/**
 * Adds an account (or, for an address that has one, issues a fresh setup link: the way to reset
 * a forgotten password, which also ends every session of the account and its old password).
 * Returns the setup token, shown once.
 */
export async function addStaff(
  db: Db,
  actor: Actor,
  input: { email: unknown; role?: unknown },
  now = new Date(),
): Promise<{ account: Staff; token: string; created: boolean }> {
  const email = normaliseAddress(input.email);
  const role = input.role === undefined || input.role === "" ? "editor" : parseRole(input.role);
  const existing = await findStaff(db, email);
  const [account] = existing
    ? [existing]
    : await db.insert(staff).values({ email, role }).onConflictDoNothing().returning();
  if (!account) throw new DigestError("conflict", `${email} was added at the same moment; try again`);
  const token = await issueSetupToken(db, account.id, now);
  // A fresh link for an account is an admin's reset, made for a lost laptop as much as a forgotten
  // or stolen password: whoever is signed in as that person is signed out now, and the old password
  // stops working now (a laptop's saved password would otherwise sign straight back in), not when
  // the link is used. Until then the account has no password, as a new one has none.
  const passwordCleared = existing !== undefined && existing.passwordHash !== null;
  if (passwordCleared)
    await db.update(staff).set({ passwordHash: null, updatedAt: sql`now()` }).where(eq(staff.id, account.id));
  const sessionsEnded = existing ? await endOtherSessions(db, account.id) : 0;
  await recordAudit(
    db,
    actor,
    existing ? "staff.setup-link" : "staff.add",
    account.email,
    existing ? { role: account.role, sessionsEnded, passwordCleared } : { role: account.role },
  );
  return { account, token, created: !existing };
}

export async function removeStaff(db: Db, actor: Actor, email: string): Promise<boolean> {
  const account = await findStaff(db, email);
  if (!account) return false;
  if (account.role === "admin") await refuseLastAdmin(db, account.id);
  await db.delete(staff).where(eq(staff.id, account.id));
  await recordAudit(db, actor, "staff.remove", account.email);
  return true;
}

export async function changeRole(db: Db, actor: Actor, email: string, role: unknown): Promise<Staff> {
  const wanted = parseRole(role);
  const account = await findStaff(db, email);
  if (!account) throw new DigestError("not_found", `no staff account ${email}`);
  if (account.role === "admin" && wanted !== "admin") await refuseLastAdmin(db, account.id);
  const [updated] = await db
    .update(staff)
    .set({ role: wanted, updatedAt: sql`now()` })
    .where(eq(staff.id, account.id))
    .returning();
  if (!updated) throw new DigestError("not_found", `no staff account ${email}`);
  await recordAudit(db, actor, "staff.role", account.email, { from: account.role, to: wanted });
  return updated;
}

/** A console without any admin could never send again: the CLI would be the only way back. */
async function refuseLastAdmin(db: Db, leaving: string): Promise<void> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(staff)
    .where(and(eq(staff.role, "admin"), sql`${staff.id} <> ${leaving}`));
  if ((row?.n ?? 0) === 0)
    throw new DigestError("conflict", "this is the last admin; make another admin first");
}

/** The account a setup link belongs to, while the link is unused and fresh. */
export async function accountForSetup(db: Db, token: string, now = new Date()): Promise<Staff | undefined> {
  if (!isTokenShaped(token)) return undefined;
  const [row] = await db
    .select({ account: staff })
    .from(staffSetupTokens)
    .innerJoin(staff, eq(staff.id, staffSetupTokens.staffId))
    .where(
      and(
        eq(staffSetupTokens.tokenHash, tokenHash(token)),
        isNull(staffSetupTokens.usedAt),
        gt(staffSetupTokens.expiresAt, now),
      ),
    );
  return row?.account;
}

/** Sets the password from a setup link; the link works once. Signs out the account's old sessions. */
export async function setPasswordFromLink(db: Db, token: string, password: string): Promise<Staff> {
  const problem = passwordProblem(password);
  if (problem) throw new DigestError("invalid", problem);
  const account = await accountForSetup(db, token);
  if (!account) throw new DigestError("not_found", "this setup link is unknown, used or expired");
  const hash = await hashPassword(password);
  const used = await db
    .update(staffSetupTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(staffSetupTokens.tokenHash, tokenHash(token)), isNull(staffSetupTokens.usedAt)))
    .returning();
  if (used.length === 0) throw new DigestError("not_found", "this setup link is unknown, used or expired");
  await db.update(staff).set({ passwordHash: hash, updatedAt: sql`now()` }).where(eq(staff.id, account.id));
  // A setup link is also the reset for a forgotten (or stolen) password: nobody stays signed in.
  const sessions = await endOtherSessions(db, account.id);
  await recordAudit(db, { staffId: account.id, email: account.email }, "staff.password-set", account.email, {
    sessionsEnded: sessions,
  });
  return account;
}

/**
 * Changes the signed-in person's password and ends every other session of the account (one opened
 * with the old password elsewhere must not outlive it); the session making the change stays.
 */
export async function changePassword(
  db: Db,
  session: Pick<Session, "account" | "idHash">,
  current: string,
  next: string,
): Promise<void> {
  const { account } = session;
  if (!account.passwordHash || !(await verifyPassword(current, account.passwordHash)))
    throw new DigestError("forbidden", "the current password is wrong");
  const problem = passwordProblem(next);
  if (problem) throw new DigestError("invalid", problem);
  const hash = await hashPassword(next);
  await db.transaction(async (tx) => {
    const txDb = tx as unknown as Db;
    await txDb
      .update(staff)
      .set({ passwordHash: hash, updatedAt: sql`now()` })
      .where(eq(staff.id, account.id));
    const sessions = await endOtherSessions(txDb, account.id, session.idHash);
    await recordAudit(
      txDb,
      { staffId: account.id, email: account.email },
      "staff.password-change",
      account.email,
      { sessionsEnded: sessions },
    );
  });
}

/** Hashing a dummy on a miss keeps "unknown email" as slow as "wrong password". */
let dummyHash: Promise<string> | undefined;

/** The account for this email and password, or undefined (same answer and time for either miss). */
export async function authenticate(db: Db, email: string, password: string): Promise<Staff | undefined> {
  if (password.length > 256) return undefined;
  const account = await findStaff(db, email);
  if (!account?.passwordHash) {
    dummyHash ??= hashPassword("not a real password");
    await verifyPassword(password, await dummyHash);
    return undefined;
  }
  return (await verifyPassword(password, account.passwordHash)) ? account : undefined;
}

export async function rememberTestAddresses(db: Db, staffId: string, addresses: string[]): Promise<void> {
  await db
    .update(staff)
    .set({ testAddresses: addresses.join(", ") })
    .where(eq(staff.id, staffId));
}

import { desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type AuditEntry, auditLog } from "../db/schema.js";

/** Who did it: a console account, or the operator at the command line. */
export interface Actor {
  staffId?: string;
  email: string;
}

export const cliActor: Actor = { email: "cli" };
/** A script holding ADMIN_TOKEN (the `/api` routes). */
export const apiActor: Actor = { email: "api" };

export async function recordAudit(
  db: Db,
  actor: Actor,
  action: string,
  target?: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await db.insert(auditLog).values({
    staffId: actor.staffId ?? null,
    actor: actor.email,
    action,
    target: target ?? null,
    detail: detail ?? null,
  });
}

/** The latest entries, all of them or only those about the given targets. */
export async function recentAudit(db: Db, targets?: string[], limit = 50): Promise<AuditEntry[]> {
  const query = db.select().from(auditLog);
  const filtered =
    targets === undefined
      ? query
      : query.where(
          targets.length === 1 ? eq(auditLog.target, targets[0] ?? "") : inArray(auditLog.target, targets),
        );
  return filtered.orderBy(desc(auditLog.id)).limit(limit);
}

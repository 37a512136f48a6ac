import { sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import type { SendStatus } from "../db/schema.js";
import { DigestError } from "../errors.js";
import { isUuid } from "../ids.js";
import { type ApprovedRendition, checkShownRendition, renditionHash } from "../issues/approval.js";
import { type Actor, recordAudit } from "../staff/audit.js";
import { enqueueDueCall, type PlanDeps } from "./plan.js";

/**
 * Approving again a send whose issue changed after its approval (issues/approval.ts holds it back):
 * the admin types the reader count back as for a new send (the edges check it), and the send takes
 * a fresh copy of the issue's text.
 */

export interface PendingApproval {
  sendId: string;
  issueId: string;
  slug: string;
  volume: string;
  subject: string;
  scheduledAt: Date;
  reason: string;
}

/** The send, when it is scheduled and waits for an admin because its issue changed; else undefined. */
export async function pendingApproval(db: Db, sendId: string): Promise<PendingApproval | undefined> {
  if (!isUuid(sendId)) return undefined;
  const [row] = await query<{
    issue_id: string;
    slug: string;
    volume: string;
    subject: string;
    scheduled_at: string | Date;
    unapproved_reason: string;
  }>(
    db,
    sql`select s.issue_id, i.slug, i.volume, i.subject, s.scheduled_at, s.unapproved_reason
      from sends s join issues i on i.id = s.issue_id
      where s.id = ${sendId} and s.status = 'scheduled' and s.unapproved_reason is not null`,
  );
  if (!row) return undefined;
  return {
    sendId,
    issueId: row.issue_id,
    slug: row.slug,
    volume: row.volume,
    subject: row.subject,
    scheduledAt: new Date(row.scheduled_at),
    reason: row.unapproved_reason,
  };
}

/** The scheduled sends waiting for an admin, newest first (the console's overview lists them). */
export async function sendsAwaitingApproval(db: Db, limit = 20): Promise<PendingApproval[]> {
  const rows = await query<{ id: string }>(
    db,
    sql`select id from sends where status = 'scheduled' and unapproved_reason is not null
      order by created_at desc limit ${limit}`,
  );
  const found = await Promise.all(rows.map((r) => pendingApproval(db, r.id)));
  return found.filter((p): p is PendingApproval => p !== undefined);
}

export interface ApprovedSend {
  sendId: string;
  status: SendStatus;
  scheduledAt: Date;
  /** False when Redis did not take the due call; the reconciler starts the send when due. */
  enqueued: boolean;
}

/**
 * An admin approves the issue's current text for a send that waits: the send takes a fresh copy of
 * it and starts at its time (at once when that has passed). `shown` is the fingerprint of the text
 * the admin was shown, when the edge has one.
 */
export async function approveSend(
  deps: PlanDeps,
  actor: Actor,
  sendId: string,
  shown?: string,
): Promise<ApprovedSend> {
  if (!isUuid(sendId)) throw new DigestError("invalid", `"${sendId}" is not a send id`);
  const approved = await deps.database.db.transaction(async (tx) => {
    const [send] = await query<{
      issue_id: string;
      status: SendStatus;
      scheduled_at: string | Date;
      unapproved_reason: string | null;
    }>(
      tx,
      sql`select issue_id, status, scheduled_at, unapproved_reason from sends where id = ${sendId} for update`,
    );
    if (!send) throw new DigestError("not_found", `no send ${sendId}`);
    if (send.status !== "scheduled" || send.unapproved_reason === null)
      throw new DigestError("conflict", `send ${sendId} is ${send.status} and waits for no approval`);
    const [issue] = await query<ApprovedRendition & { slug: string; volume: string }>(
      tx,
      sql`select slug, volume, subject, html, text from issues where id = ${send.issue_id} for update`,
    );
    if (!issue) throw new Error("the send's issue vanished");
    checkShownRendition(issue, shown, issue.volume);
    await query(
      tx,
      sql`update sends set subject = ${issue.subject}, html = ${issue.html}, text = ${issue.text},
        approved_rendition = ${renditionHash(issue)}, unapproved_reason = null, updated_at = now()
      where id = ${sendId}`,
    );
    await recordAudit(tx, actor, "send.approve", sendId, {
      issue: issue.slug,
      rendition: renditionHash(issue),
    });
    return { scheduledAt: new Date(send.scheduled_at) };
  });
  let enqueued = true;
  try {
    // A due call still waiting keeps its time; one that already ran left the send alone and is gone,
    // so this one is taken and starts it.
    await enqueueDueCall(deps.queue, sendId, approved.scheduledAt);
  } catch {
    enqueued = false;
  }
  return { sendId, status: "scheduled", scheduledAt: approved.scheduledAt, enqueued };
}

import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { DigestError } from "../errors.js";
import { type Actor, recordAudit } from "../staff/audit.js";

/**
 * What an admin approved is what goes out (SPEC §6). A send carries a copy of the rendition it was
 * approved with (`sends.subject/html/text`, which the workers mail) and that copy's fingerprint
 * (`sends.approved_rendition`), written only when an admin approves. Storing another text for the
 * issue afterwards un-approves its scheduled sends here, in the same transaction, and they wait for
 * an admin (sending/approval.ts) instead of starting. Belt and braces: a send starts only while its
 * copy and its issue both still have the approved fingerprint (sending/plan.ts), and a worker mails
 * nothing from a copy that lost it (sending/send-cache.ts).
 */

export interface ApprovedRendition {
  subject: string;
  html: string;
  text: string;
}

/**
 * A short fingerprint of a rendition. Pages and prompts carry the one they showed, so a text that
 * changed between showing and confirming is refused instead of approved unseen; a send keeps the
 * one its admin approved.
 */
export function renditionHash(r: ApprovedRendition): string {
  return createHash("sha256")
    .update(JSON.stringify([r.subject, r.html, r.text]))
    .digest("hex")
    .slice(0, 32);
}

/**
 * renditionHash in SQL, over three text columns (Postgres's to_json escapes text exactly as
 * JSON.stringify does), so a send can be checked where it is started without reading its text out.
 */
export function renditionHashSql(subject: SQL, html: SQL, text: SQL): SQL {
  return sql`substr(encode(sha256(convert_to('[' || to_json(${subject}::text)::text || ',' ||
    to_json(${html}::text)::text || ',' || to_json(${text}::text)::text || ']', 'UTF8')), 'hex'), 1, 32)`;
}

/** Refuses when the caller confirmed another text than the issue holds now. */
export function checkShownRendition(
  current: ApprovedRendition,
  shown: string | undefined,
  volume: string,
): void {
  if (shown === undefined || shown === renditionHash(current)) return;
  throw new DigestError(
    "conflict",
    `Vol ${volume} changed after it was shown to you: look at the new text and confirm again`,
  );
}

/**
 * Un-approves the scheduled sends of an issue whose approved copy differs from `now`: run in the
 * transaction that stores the new text, so no send can start between the edit and this. A send that
 * already waits is told again (the reason names the latest change, the audit log every one), since
 * the admin who approves it must know the text moved on. Test sends keep their copy and go on: they
 * mail only staff.
 */
export async function unapproveChangedSends(
  tx: Db,
  actor: Actor,
  issue: { id: string; volume: string; slug: string },
  change: { before: ApprovedRendition | undefined; now: ApprovedRendition },
): Promise<string[]> {
  const { before, now } = change;
  const reason =
    `Vol ${issue.volume} was changed by ${actor.email} after this send was approved; ` +
    "it will not start until an admin approves the new text";
  // A send that waits already is told again only when the text moved on from the one it waited
  // for: storing that same text again says nothing new.
  const moved = before === undefined || renditionHash(before) !== renditionHash(now);
  const changed = await query<{ id: string }>(
    tx,
    sql`update sends set unapproved_reason = ${reason}, updated_at = now()
      where issue_id = ${issue.id} and status = 'scheduled' and not is_test
        and (subject, html, text) is distinct from (${now.subject}, ${now.html}, ${now.text})
        and (unapproved_reason is null or ${moved})
      returning id`,
  );
  for (const send of changed)
    await recordAudit(tx, actor, "send.unapproved", send.id, { issue: issue.slug, reason });
  return changed.map((s) => s.id);
}

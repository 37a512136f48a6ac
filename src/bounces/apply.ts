import { type SQL, sql } from "drizzle-orm";
import { type Db, query } from "../db/database.js";
import { verifiedMessageRef } from "../sending/message-id.js";
import type { Bounce } from "./bounce.js";
import { type BounceSource, type RecordedBounce, recordBounce } from "./record.js";

/**
 * Proof before policy. Every report (inbound DSN or ARF, a saved file, a provider webhook, the
 * bounce mailbox) names the delivery it is about with one or more of these; the policy runs only
 * when one of them holds and the recipient the report names (if any) is that delivery's reader.
 * A report that names nothing of ours, or another reader than the one we mailed, is ignored with
 * the reason: anyone can mail postmaster@ a "bounce" naming a reader, and it must not stop their mail.
 */
export type ReportProof =
  /** The VERP return path's token, already verified by whoever read the envelope. */
  | { kind: "verp"; deliveryId: number }
  /** A Message-ID quoted by the report; ours only when its signature checks. */
  | { kind: "message-id"; messageId: string }
  /** The id a relay gave our message in its 250 answer (recorded per delivery). */
  | { kind: "provider-id"; providerMessageId: string };

export interface ApplyReportDeps {
  db: Db;
  secret: string;
  /** MAIL_DOMAIN: our Message-IDs end in it. */
  domain: string;
  softBounceLimit: number;
  /** DEFER_HORIZON_SECONDS: see streak.ts. */
  deferHorizonSeconds: number;
}

export interface ReportInput {
  bounce: Bounce;
  proofs: ReportProof[];
  source: BounceSource;
  /** The report's own id (its Message-ID, a provider's event id), kept with the record for staff. */
  reportId?: string;
  /** The relay that reported it, for webhook reports. */
  provider?: string;
}

export type ReportOutcome =
  | { applied: true; deliveryId: number; recorded: RecordedBounce }
  | { applied: false; deliveryId?: number; why: string };

export async function applyReport(deps: ApplyReportDeps, input: ReportInput): Promise<ReportOutcome> {
  const { bounce } = input;
  if (bounce.type === "none") return { applied: false, why: "not a failure or complaint report" };
  const delivery = await provenDelivery(deps, input.proofs);
  if ("why" in delivery) return { applied: false, why: delivery.why };
  const { id: deliveryId, address } = delivery;
  // An erased reader's delivery keeps no address: a late report about them stores nothing.
  if (!address) return { applied: false, deliveryId, why: "the delivery's reader was erased" };
  const named = bounce.recipients.filter((r) => r.address !== "");
  const theirs = named.filter((r) => sameAddress(r.address, address));
  if (named.length > 0 && theirs.length === 0) {
    return {
      applied: false,
      deliveryId,
      why: "the report names another recipient than that delivery's reader",
    };
  }
  // Only the recipient we mailed goes into the record: a report's other addresses are not ours to keep.
  const recorded = await recordBounce(
    { db: deps.db, softBounceLimit: deps.softBounceLimit, deferHorizonSeconds: deps.deferHorizonSeconds },
    {
      bounce: { ...bounce, recipients: theirs },
      deliveryId,
      source: input.source,
      ...(input.reportId ? { reportId: input.reportId } : {}),
      ...(input.provider ? { provider: input.provider } : {}),
    },
  );
  return { applied: true, deliveryId, recorded };
}

async function provenDelivery(
  deps: ApplyReportDeps,
  proofs: ReportProof[],
): Promise<{ id: number; address: string | null } | { why: string }> {
  let why = "no proof that the report answers our mail (no VERP token, signed Message-ID or relay id)";
  for (const proof of proofs) {
    if (proof.kind === "verp") {
      const [row] = await deliveryRows(deps.db, sql`d.id = ${proof.deliveryId}`);
      if (row) return row;
      why = "the VERP token names a delivery that no longer exists";
    } else if (proof.kind === "message-id") {
      const ref = verifiedMessageRef(deps.secret, deps.domain, proof.messageId);
      if (!ref) continue;
      const [row] = await deliveryRows(deps.db, sql`d.id = ${ref.deliveryId} and d.send_id = ${ref.sendId}`);
      if (row) return row;
      why = "the signed Message-ID names a delivery that no longer exists";
    } else {
      const id = proof.providerMessageId.trim();
      if (id === "" || id.length > 500) continue;
      const rows = await deliveryRows(deps.db, sql`d.provider_message_id = ${id}`, 2);
      // A relay id shared by two deliveries proves neither.
      if (rows.length === 1 && rows[0]) return rows[0];
      why =
        rows.length > 1
          ? "the relay's message id is not unique"
          : "the relay's message id is not one of ours";
    }
  }
  return { why };
}

/** The deliveries `where` names, each with the address it was sent to. */
function deliveryRows(db: Db, where: SQL, limit = 1) {
  return query<{ id: number; address: string | null }>(
    db,
    sql`select d.id::float8 as id, coalesce(s.email, d.address) as address
      from deliveries d left join subscribers s on s.id = d.subscriber_id where ${where} limit ${limit}`,
  );
}

/** Domains are case-insensitive; local parts are compared case-insensitively too (as servers do). */
function sameAddress(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

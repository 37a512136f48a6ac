import { createHash } from "node:crypto";
import { type ApplyReportDeps, applyReport, type ReportProof } from "../bounces/apply.js";
import type { Bounce } from "../bounces/bounce.js";
import { atTokens, isSpace } from "../bounces/fields.js";
import { parseBounce } from "../bounces/parse.js";
import { verifyDeliveryToken } from "../subscribers/tokens.js";
import { routeRecipient } from "./recipient.js";

export type MailedReportOutcome =
  | { result: "applied"; deliveryId: number; type: string }
  | { result: "duplicate"; deliveryId: number }
  /** A report we read but do not apply (no proof, another reader, a delay notice): logged. */
  | { result: "ignored"; why: string }
  /** Not a bounce or complaint we can read at all. */
  | { result: "unparsed" };

/**
 * One message from the bounce mailbox (BOUNCE_IMAP_URL), applied like inbound mail: parsed into a
 * `Bounce`, proven by the VERP address the relay delivered it to (Delivered-To, X-Original-To or To,
 * verified by its token) or by the signed Message-ID it quotes. Reading it twice, or getting it by
 * SMTP too, records it once: the policy counts one failure per delivery (bounces/record.ts).
 */
export async function applyMailedReport(deps: ApplyReportDeps, raw: Buffer): Promise<MailedReportOutcome> {
  return applyParsedReport(deps, raw, await parseBounce(raw));
}

/** The same for a message already parsed into `bounce` (off the event loop, by the mailbox reader). */
export async function applyParsedReport(
  deps: ApplyReportDeps,
  raw: Buffer,
  bounce: Bounce,
): Promise<MailedReportOutcome> {
  if (bounce.type === "none" && bounce.recipients.length === 0) return { result: "unparsed" };
  if (bounce.type === "none") return { result: "ignored", why: "not a failure or complaint report" };
  const head = headerBlock(raw);
  const proofs = savedReportProofs(head, bounce, deps);
  const outcome = await applyReport(deps, { bounce, proofs, source: "mailbox", reportId: reportIdOf(raw) });
  if (!outcome.applied) return { result: "ignored", why: outcome.why };
  if (outcome.recorded.duplicate) return { result: "duplicate", deliveryId: outcome.deliveryId };
  return { result: "applied", deliveryId: outcome.deliveryId, type: bounce.type };
}

/**
 * The report's own identity, kept with the record for staff (counting is per delivery, not by it):
 * its Message-ID, or a hash of its bytes when it has none.
 */
export function reportIdOf(raw: Buffer): string {
  const ownId = /^message-id[ \t]*:[ \t]*(<[^>\s]{1,900}>)/im.exec(headerBlock(raw))?.[1];
  return ownId ?? `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

/**
 * What proves a report read from a mailbox or a file ours: the VERP address it was delivered to
 * (Delivered-To, X-Original-To or To, verified by its token) and the signed Message-ID it quotes.
 */
export function savedReportProofs(
  head: string,
  bounce: Bounce,
  keys: { secret: string; domain: string },
): ReportProof[] {
  const proofs: ReportProof[] = [];
  for (const name of ["delivered-to", "x-original-to", "to"]) {
    for (const address of headerAddresses(head, name)) {
      const recipient = routeRecipient(address, keys.domain, []);
      if (recipient?.kind !== "bounce") continue;
      const deliveryId = verifyDeliveryToken(keys.secret, recipient.token);
      if (deliveryId !== undefined) proofs.push({ kind: "verp", deliveryId });
    }
  }
  if (bounce.originalMessageId) proofs.push({ kind: "message-id", messageId: bounce.originalMessageId });
  return proofs;
}

/** The top-level header block, unfolded. */
export function headerBlock(raw: Buffer): string {
  const text = raw.subarray(0, 256 * 1024).toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
}

// What separates addresses in a header value: the `[^\s<>,;"]` of the shape `x@y`.
const NOT_IN_ADDRESS = new Set([...'<>,;"'].map((c) => c.charCodeAt(0)));
const headerSeparator = (code: number) => isSpace(code) || NOT_IN_ADDRESS.has(code);

function headerAddresses(head: string, name: string): string[] {
  const found: string[] = [];
  for (const m of head.matchAll(new RegExp(`^${name}[ \\t]*:(.*)$`, "gim"))) {
    for (const a of atTokens(m[1] ?? "", headerSeparator)) found.push(a.token);
  }
  return found;
}

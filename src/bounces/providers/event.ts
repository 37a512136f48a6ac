import { type ApplyReportDeps, applyReport, type ReportOutcome, type ReportProof } from "../apply.js";
import type { Bounce, BounceRecipient, BounceType } from "../bounce.js";
import { classifyReason } from "../classify.js";

/** The relays whose webhooks we read. */
export type Provider = "ses" | "postmark" | "mailgun" | "sendgrid";

/**
 * One bounce or complaint a relay reported, normalised at the edge: a `Bounce` about one recipient,
 * with what the relay told us about the message it answers.
 */
export interface ProviderEvent {
  provider: Provider;
  bounce: Bounce;
  /** Our own Message-ID when the relay echoes it (checked by its signature, never trusted as is). */
  messageId?: string;
  /** The relay's id for the message (as its 250 answer gave it). */
  providerMessageIds: string[];
  /** The relay's id for this event: a retried webhook delivers it again and must count once. */
  eventId: string;
}

/**
 * What a relay said about one recipient, classified by the same rules as inbound bounce mail: the
 * relay's own "hard"/"permanent" label is a hint, never a verdict, and a temporary failure the
 * relay reports is never hard whatever its words.
 */
export function providerRecipient(input: {
  address: string;
  status?: string;
  diagnostic: string;
  /** The relay called it temporary (soft, transient, deferred). */
  temporary: boolean;
}): BounceRecipient {
  const status = input.status?.trim() ?? "";
  const verdict = classifyReason({ diagnostic: input.diagnostic, ...(status ? { status } : {}) });
  const type: BounceType = input.temporary ? "soft" : verdict.type;
  return {
    address: input.address.trim(),
    status,
    action: input.temporary ? "delayed" : "failed",
    diagnostic: input.diagnostic.slice(0, 2000),
    type,
    reason: verdict.reason,
  };
}

export function complaintBounce(address: string, feedbackType = "abuse", diagnostic = ""): Bounce {
  return {
    type: "complaint",
    feedbackType,
    recipients: [
      { address: address.trim(), status: "", action: "", diagnostic, type: "complaint", reason: "complaint" },
    ],
  };
}

export function failureBounce(recipient: BounceRecipient, messageId?: string): Bounce {
  return {
    type: recipient.type,
    recipients: [recipient],
    ...(messageId ? { originalMessageId: messageId } : {}),
  };
}

/** Applies one event with every proof it carries; unmatched events change nothing (apply.ts). */
export function applyProviderEvent(deps: ApplyReportDeps, event: ProviderEvent): Promise<ReportOutcome> {
  const proofs: ReportProof[] = [];
  if (event.messageId) proofs.push({ kind: "message-id", messageId: event.messageId });
  for (const id of event.providerMessageIds) proofs.push({ kind: "provider-id", providerMessageId: id });
  return applyReport(deps, {
    bounce: event.bounce,
    proofs,
    source: "webhook",
    provider: event.provider,
    reportId: `${event.provider}:${event.eventId}`,
  });
}

/** A Message-ID in angle brackets, whatever form the relay echoes it in. */
export function bracketed(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const bare = value.trim().replace(/^<|>$/g, "");
  return /^[^<>\s@]+@[^<>\s@]+$/.test(bare) ? `<${bare}>` : undefined;
}

/** The string at `value` if it is one, for reading untyped JSON without casts. */
export function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

export function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

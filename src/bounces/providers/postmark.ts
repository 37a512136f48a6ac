import { createHash, timingSafeEqual } from "node:crypto";
import {
  bracketed,
  complaintBounce,
  failureBounce,
  obj,
  type ProviderEvent,
  providerRecipient,
  str,
} from "./event.js";

/**
 * Postmark bounce and spam-complaint webhooks. Postmark's `MessageID` is its own id (the one its
 * SMTP answer gave), so events match by the relay id; the bounce dump, when included, may quote ours.
 */
export function postmarkEvents(payload: unknown): ProviderEvent[] {
  const p = obj(payload);
  const recordType = str(p.RecordType);
  const type = str(p.Type);
  const address = str(p.Email);
  const id = str(p.ID);
  if (!address || !id) return [];
  const messageId = bracketed(headerValue(str(p.Content), "message-id"));
  const common = {
    provider: "postmark" as const,
    providerMessageIds: str(p.MessageID) ? [str(p.MessageID)] : [],
    eventId: `${recordType}:${id}`,
    ...(messageId ? { messageId } : {}),
  };
  if (recordType === "SpamComplaint" || type === "SpamComplaint") {
    return [{ ...common, bounce: complaintBounce(address, "abuse", str(p.Details)) }];
  }
  if (recordType !== "Bounce" || !FAILURES.has(type)) return [];
  const recipient = providerRecipient({
    address,
    diagnostic: str(p.Details) || str(p.Description),
    temporary: TEMPORARY.has(type),
  });
  return [{ ...common, bounce: failureBounce(recipient, messageId) }];
}

// Postmark's bounce types that report a failure; auto-replies, (un)subscribe requests and address
// changes are not about delivery, and "Transient" is a delay Postmark still retries (like a DSN's
// Action: delayed): all ignored.
const FAILURES = new Set([
  "HardBounce",
  "SoftBounce",
  "DnsError",
  "BadEmailAddress",
  "Blocked",
  "SpamNotification",
  "VirusNotification",
  "DMARCPolicy",
  "Unknown",
]);
const TEMPORARY = new Set(["SoftBounce", "DnsError", "Blocked"]);

/** `Authorization: Basic ...` against WEBHOOK_POSTMARK_AUTH (`user:password`), in constant time. */
export function postmarkAuthorized(header: string | undefined, expected: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], "base64").toString("utf8");
  // Hashing first gives equal lengths, so the comparison time says nothing about the secret.
  const digest = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function headerValue(raw: string, name: string): string {
  const m = new RegExp(`^${name}[ \\t]*:[ \\t]*(\\S+)`, "im").exec(raw.slice(0, 200_000));
  return m?.[1] ?? "";
}

/**
 * JSON notifications (Amazon SES through SNS, and look-alikes): bounce, complaint and delivery
 * events mailed as a JSON body instead of a DSN.
 */
import type { Bounce, BounceRecipient } from "./bounce.js";
import { classifyReason, enhancedCodes } from "./classify.js";
import { normalizeAddress, oneLine, stripTypePrefix } from "./fields.js";
import { mostSevere } from "./severity.js";

type Json = Record<string, unknown>;

export function parseJsonNotification(text: string): Bounce | undefined {
  const event = findEvent(text);
  if (!event) return undefined;
  const kind = String(event.notificationType ?? event.eventType ?? "").toLowerCase();
  if (kind === "complaint" && isObject(event.complaint)) {
    const complaint = event.complaint;
    const feedbackType = String(complaint.complaintFeedbackType ?? "abuse").toLowerCase();
    const recipients = list(complaint.complainedRecipients).map((r) =>
      row(r, { type: "complaint", reason: feedbackType }),
    );
    return { type: "complaint", feedbackType, recipients, ...messageId(event) };
  }
  if (kind === "bounce" && isObject(event.bounce)) {
    const transient = String(event.bounce.bounceType ?? "").toLowerCase() !== "permanent";
    const recipients = list(event.bounce.bouncedRecipients).map((item) => {
      const r = isObject(item) ? item : {};
      const diagnostic = stripTypePrefix(String(r.diagnosticCode ?? ""));
      const status = String(r.status ?? enhancedCodes(diagnostic)[0] ?? "");
      const result = classifyReason({ status: transient ? status.replace(/^5/, "4") : status, diagnostic });
      return row(r, result, diagnostic);
    });
    return { type: mostSevere(recipients), recipients, ...messageId(event) };
  }
  if (kind === "delivery" && isObject(event.delivery)) {
    const recipients = list(event.delivery.recipients).map((address) => ({
      address: normalizeAddress(String(address)),
      status: enhancedCodes(String(event.delivery?.smtpResponse ?? ""))[0] ?? "",
      action: "delivered",
      diagnostic: oneLine(String(event.delivery?.smtpResponse ?? "")),
      type: "none" as const,
      reason: "delivered",
    }));
    return { type: "none", recipients, ...messageId(event) };
  }
  return undefined;
}

function row(
  r: unknown,
  result: { type: BounceRecipient["type"]; reason: string },
  diagnostic = "",
): BounceRecipient {
  const rec = isObject(r) ? r : { emailAddress: r };
  return {
    address: normalizeAddress(String(rec.emailAddress ?? "")),
    status: String(rec.status ?? ""),
    action: String(rec.action ?? (result.type === "complaint" ? "" : "failed")),
    diagnostic: oneLine(diagnostic),
    ...result,
  };
}

// The event may be the body itself or an SNS envelope whose "Message" is the event as a string.
function findEvent(text: string): (Json & { bounce?: Json; complaint?: Json; delivery?: Json }) | undefined {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start || !/"(?:notificationType|eventType|Message)"/.test(text)) return undefined;
  const span = text.slice(start, end + 1);
  // Sendmail splits lines over 990 octets with "!\n "; other relays just wrap.
  const candidates = [span, span.replace(/!\n /g, ""), span.replace(/\n[ \t]?/g, "")];
  let parsed: unknown;
  for (const candidate of candidates) {
    try {
      parsed = JSON.parse(candidate);
      break;
    } catch {
      parsed = undefined;
    }
  }
  if (isObject(parsed) && typeof parsed.Message === "string") {
    try {
      parsed = JSON.parse(parsed.Message);
    } catch {
      return undefined;
    }
  }
  return isObject(parsed) ? parsed : undefined;
}

function messageId(event: Json): { originalMessageId?: string } {
  const mail = isObject(event.mail) ? event.mail : undefined;
  const headers = mail && Array.isArray(mail.headers) ? mail.headers : [];
  for (const h of headers) {
    if (isObject(h) && String(h.name).toLowerCase() === "message-id")
      return { originalMessageId: String(h.value) };
  }
  return {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

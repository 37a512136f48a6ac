/**
 * ARF complaints (RFC 5965) and authentication-failure reports (RFC 6591): who complained and why.
 */
import type { BounceRecipient } from "./bounce.js";
import { addressesIn, addressOf, type Fields, field, parseFields } from "./fields.js";

export interface Complaint {
  feedbackType: string;
  recipients: BounceRecipient[];
}

/** Reads a feedback-report part. `originalTo` is the To of the returned message, the fallback. */
export function parseFeedbackReport(report: string, originalTo: string[]): Complaint {
  const fields: Fields = parseFields(report);
  const typeNamed = (field(fields, "feedback-type")
    .toLowerCase()
    .match(/[a-z-]+/) ?? ["abuse"])[0];
  // The ARF drafts' "opt-out-list" (leave this list) is an opt-out like "opt-out" (leave all mail).
  const feedbackType = typeNamed === "opt-out-list" ? "opt-out" : typeNamed;
  const named = [...(fields.get("original-rcpt-to") ?? []), ...(fields.get("removal-recipient") ?? [])]
    .map(addressOf)
    .filter((a) => a !== "");
  const addresses = unique(named.length ? named : originalTo);
  const diagnostic = feedbackType === "auth-failure" ? field(fields, "auth-failure") : "";
  return {
    feedbackType,
    recipients: addresses.map((address) => ({
      address,
      status: "",
      action: "",
      diagnostic,
      type: "complaint",
      reason: feedbackType,
    })),
  };
}

/** Feedback fields written into a text part (some providers send ARF without the multipart). */
export function inlineFeedbackReport(text: string): string | undefined {
  const m = /^Feedback-Type[ \t]*:[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*/im.exec(text);
  return m?.[0];
}

export function unique(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const key = a.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function addressesOfHeader(value: string | undefined): string[] {
  return value ? addressesIn(value) : [];
}

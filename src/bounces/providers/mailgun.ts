import { createHmac, timingSafeEqual } from "node:crypto";
import {
  bracketed,
  complaintBounce,
  failureBounce,
  obj,
  type ProviderEvent,
  providerRecipient,
  str,
} from "./event.js";

/** Mailgun signs each webhook call; a call older than this (either way) is stale. */
export const mailgunMaxSkewSeconds = 5 * 60;

export type MailgunVerdict = { ok: true; token: string } | { ok: false; why: string };

/**
 * HMAC-SHA256 of timestamp + token with the signing key, compared in constant time, and a fresh
 * timestamp. The caller remembers the token: a captured call replayed within the window is refused.
 */
export function verifyMailgun(payload: unknown, signingKey: string, nowSeconds: number): MailgunVerdict {
  const signature = obj(obj(payload).signature);
  const timestamp = str(signature.timestamp);
  const token = str(signature.token);
  const given = str(signature.signature);
  if (
    !/^\d{1,12}$/.test(timestamp) ||
    token.length < 16 ||
    token.length > 256 ||
    !/^[0-9a-f]{64}$/i.test(given)
  )
    return { ok: false, why: "unsigned" };
  const expected = createHmac("sha256", signingKey)
    .update(timestamp + token)
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return { ok: false, why: "bad signature" };
  if (Math.abs(nowSeconds - Number(timestamp)) > mailgunMaxSkewSeconds) return { ok: false, why: "stale" };
  return { ok: true, token };
}

/**
 * Mailgun's permanent `failed` and `complained` events. Mailgun keeps our Message-ID
 * as its message id (`message.headers.message-id`, without brackets).
 */
export function mailgunEvents(payload: unknown): ProviderEvent[] {
  const e = obj(obj(payload)["event-data"]);
  const kind = str(e.event);
  const address = str(e.recipient);
  const id = str(e.id);
  if (!address || !id) return [];
  const rawId = str(obj(obj(e.message).headers)["message-id"]);
  const messageId = bracketed(rawId);
  const common = {
    provider: "mailgun" as const,
    providerMessageIds: rawId ? [rawId] : [],
    eventId: id,
    ...(messageId ? { messageId } : {}),
  };
  if (kind === "complained") return [{ ...common, bounce: complaintBounce(address) }];
  // A temporary failure is an attempt Mailgun retries (a delay); its final word is a permanent one.
  if (kind !== "failed" || str(e.severity) !== "permanent") return [];
  const status = obj(e["delivery-status"]);
  const code = str(status.code);
  const words = [str(status.message), str(status.description)].filter((w) => w !== "").join(" ");
  const recipient = providerRecipient({
    address,
    status: str(status["enhanced-code"]),
    diagnostic: code && !words.startsWith(code) ? `${code} ${words}` : words || str(e.reason),
    temporary: false,
  });
  return [{ ...common, bounce: failureBounce(recipient, messageId) }];
}

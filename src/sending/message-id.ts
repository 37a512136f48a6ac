import { createHmac, timingSafeEqual } from "node:crypto";
import { uuidSource } from "../ids.js";
import type { MailIdentity } from "./identity.js";

/**
 * Our Message-IDs: `<send-id.delivery-id.signature@MAIL_DOMAIN>`. The send id is in every reader's
 * copy and delivery ids are dense integers, so without the signature anyone who received one issue
 * could name every other reader's delivery in a forged report. The signature is an HMAC of the two
 * ids with SECRET; deterministic, so a re-sent ambiguous delivery keeps the same Message-ID.
 */
const signatureBytes = 10;

export function messageId(
  identity: MailIdentity,
  secret: string,
  sendId: string,
  deliveryId: number,
): string {
  return `<${sendId}.${deliveryId}.${signature(secret, sendId, deliveryId).toString("hex")}@${identity.domain}>`;
}

export interface MessageRef {
  sendId: string;
  deliveryId: number;
}

/**
 * The send and delivery a Message-ID names, only when it is ours (our domain) and its signature
 * checks (in constant time). Anything else, including an old unsigned Message-ID, is undefined.
 */
export function verifiedMessageRef(
  secret: string,
  domain: string,
  value: string | undefined,
): MessageRef | undefined {
  const match = messageIdPattern.exec(value ?? "");
  if (!match?.[1] || !match[2] || !match[3] || match[4]?.toLowerCase() !== domain.toLowerCase())
    return undefined;
  const sendId = match[1].toLowerCase();
  const deliveryId = Number(match[2]);
  const given = Buffer.from(match[3].toLowerCase(), "hex");
  const expected = signature(secret, sendId, deliveryId);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { sendId, deliveryId };
}

const messageIdPattern = new RegExp(`<?(${uuidSource})\\.(\\d{1,15})\\.([0-9a-f]{20})@([^>\\s]+)>?`, "i");

function signature(secret: string, sendId: string, deliveryId: number): Buffer {
  return createHmac("sha256", secret)
    .update(`message-id:${sendId.toLowerCase()}.${deliveryId}`)
    .digest()
    .subarray(0, signatureBytes);
}

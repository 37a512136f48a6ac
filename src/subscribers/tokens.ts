import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed tokens for links and return paths: pure HMAC with SECRET, nothing stored. Encoded in
 * lower-case base32 so they are URL-safe and survive mail servers that fold the case of an
 * address's local part (the VERP return path carries one).
 */
export type SubscriberPurpose = "confirm" | "unsubscribe" | "manage";
const purposeByte = { confirm: 1, unsubscribe: 2, manage: 3, bounce: 4 } as const;
const macBytes = 12;
const confirmLifetimeMs = 7 * 24 * 3600 * 1000;

export function signSubscriberToken(
  secret: string,
  purpose: SubscriberPurpose,
  subscriberId: string,
  now = Date.now(),
): string {
  const id = uuidBytes(subscriberId);
  const payload =
    purpose === "confirm"
      ? Buffer.concat([
          Buffer.of(purposeByte.confirm),
          id,
          uint32(Math.floor((now + confirmLifetimeMs) / 1000)),
        ])
      : Buffer.concat([Buffer.of(purposeByte[purpose]), id]);
  return base32(Buffer.concat([payload, mac(secret, payload)]));
}

/** The subscriber id a token names, or undefined when it is tampered, of another purpose, or expired. */
export function verifySubscriberToken(
  secret: string,
  purpose: SubscriberPurpose,
  token: string,
  now = Date.now(),
): string | undefined {
  const payload = open(secret, token, purpose === "confirm" ? 21 : 17);
  if (!payload || payload[0] !== purposeByte[purpose]) return undefined;
  if (purpose === "confirm" && payload.readUInt32BE(17) * 1000 < now) return undefined;
  return uuidString(payload.subarray(1, 17));
}

/** The token in a delivery's VERP return path, `bounces+<token>@MAIL_DOMAIN`. */
export function signDeliveryToken(secret: string, deliveryId: number): string {
  const payload = Buffer.alloc(9);
  payload[0] = purposeByte.bounce;
  payload.writeBigUInt64BE(BigInt(deliveryId), 1);
  return base32(Buffer.concat([payload, mac(secret, payload)]));
}

export function verifyDeliveryToken(secret: string, token: string): number | undefined {
  const payload = open(secret, token, 9);
  if (!payload || payload[0] !== purposeByte.bounce) return undefined;
  return Number(payload.readBigUInt64BE(1));
}

function open(secret: string, token: string, payloadLength: number): Buffer | undefined {
  const bytes = unbase32(token.toLowerCase());
  if (!bytes || bytes.length !== payloadLength + macBytes) return undefined;
  const payload = bytes.subarray(0, payloadLength);
  return timingSafeEqual(bytes.subarray(payloadLength), mac(secret, payload)) ? payload : undefined;
}

function mac(secret: string, payload: Buffer): Buffer {
  return createHmac("sha256", secret).update(payload).digest().subarray(0, macBytes);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, "hex");
}

function uuidString(bytes: Buffer): string {
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const alphabet = "abcdefghijklmnopqrstuvwxyz234567";

function base32(bytes: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | undefined {
  if (text.length > 128) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const index = alphabet.indexOf(ch);
    if (index === -1) return undefined;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Only the canonical spelling is accepted: a trailing character that carries no whole byte, or
  // non-zero padding bits, would let several strings verify as the same token.
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return undefined;
  return Buffer.from(out);
}

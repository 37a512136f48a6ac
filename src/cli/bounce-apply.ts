import { readFile } from "node:fs/promises";
import type { Bounce } from "../bounces/bounce.js";
import { parseBounce } from "../bounces/parse.js";
import { type RecordedBounce, recordBounce } from "../bounces/record.js";
import { ConfigError, loadConfig } from "../config.js";
import { DigestError } from "../errors.js";
import { messageRef } from "../inbound/handle.js";
import { loadNewsletter } from "../newsletter.js";
import { parseMailbox } from "../sending/identity.js";
import { verifyDeliveryToken } from "../subscribers/tokens.js";
import { openConfiguredDatabase } from "./context.js";

/**
 * `digest bounce FILE --apply`: the same policy as the inbound server (recordBounce, one
 * transaction) for a report saved to a file. The delivery is found by the VERP address the report
 * was sent to (Delivered-To / X-Original-To / To, when SECRET is set), else by our Message-ID in
 * the returned headers, else the policy matches the reader by the failed recipient's address.
 */
export async function applyBounceFile(
  file: string,
): Promise<{ bounce: Bounce; applied: RecordedBounce; deliveryId?: number }> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    throw new DigestError("invalid", `cannot read ${file}`, { cause: error });
  }
  const bounce = await parseBounce(raw);
  const { softBounceLimit, mailDomain, mailFrom, newsletterFile } = loadConfig([
    "softBounceLimit",
    "mailDomain",
    "mailFrom",
    "newsletterFile",
  ]);
  const secret = optionalSecret();
  const domain =
    mailDomain ??
    parseMailbox(mailFrom ?? loadNewsletter(newsletterFile).from, "the sender").address.split("@")[1] ??
    "";
  const deliveryId =
    verpDelivery(raw, domain, secret) ?? messageRef(bounce.originalMessageId, domain)?.deliveryId;
  const database = await openConfiguredDatabase();
  try {
    const applied = await recordBounce(
      { db: database.db, softBounceLimit },
      { bounce, deliveryId, source: "cli" },
    );
    return { bounce, applied, deliveryId };
  } finally {
    await database.close();
  }
}

function optionalSecret(): string | undefined {
  try {
    return loadConfig(["secret"]).secret;
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

function verpDelivery(raw: Buffer, domain: string, secret: string | undefined): number | undefined {
  if (!secret || !domain) return undefined;
  const head =
    raw
      .subarray(0, 64 * 1024)
      .toString("latin1")
      .split(/\r?\n\r?\n/)[0] ?? "";
  const pattern = new RegExp(`bounces\\+([a-z2-7]{10,120})@${domain.replace(/\./g, "\\.")}`, "gi");
  for (const match of head.matchAll(pattern)) {
    const id = match[1] ? verifyDeliveryToken(secret, match[1]) : undefined;
    if (id !== undefined) return id;
  }
  return undefined;
}

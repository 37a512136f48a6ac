import { readFile } from "node:fs/promises";
import { applyReport, type ReportOutcome, type ReportProof } from "../bounces/apply.js";
import type { Bounce } from "../bounces/bounce.js";
import { parseBounce } from "../bounces/parse.js";
import { ConfigError, loadConfig } from "../config.js";
import { DigestError } from "../errors.js";
import { loadNewsletter } from "../newsletter.js";
import { parseMailbox } from "../sending/identity.js";
import { verifyDeliveryToken } from "../subscribers/tokens.js";
import { openConfiguredDatabase } from "./context.js";

/**
 * `digest bounce FILE --apply`: the same proof and policy as the inbound server (bounces/apply.ts)
 * for a report saved to a file. The delivery is named by the VERP address the report was sent to
 * (Delivered-To / X-Original-To / To) or by our signed Message-ID in the returned headers; a report
 * with neither, or naming another recipient, is not applied and the reason is printed.
 */
export async function applyBounceFile(file: string): Promise<{ bounce: Bounce; applied: ReportOutcome }> {
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
  if (!secret) {
    throw new DigestError(
      "invalid",
      "--apply needs SECRET (the one the service signs with): without it no report can be proven ours",
    );
  }
  const proofs: ReportProof[] = [];
  const verp = verpDelivery(raw, domain, secret);
  if (verp !== undefined) proofs.push({ kind: "verp", deliveryId: verp });
  if (bounce.originalMessageId) proofs.push({ kind: "message-id", messageId: bounce.originalMessageId });
  const database = await openConfiguredDatabase();
  try {
    const applied = await applyReport(
      { db: database.db, secret, domain, softBounceLimit },
      { bounce, proofs, source: "cli" },
    );
    return { bounce, applied };
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

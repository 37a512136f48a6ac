import { applyReport, type ReportOutcome } from "../bounces/apply.js";
import type { Bounce } from "../bounces/bounce.js";
import { PARSED_BYTES, parseBounce } from "../bounces/parse.js";
import { ConfigError, loadConfig } from "../config.js";
import { DigestError } from "../errors.js";
import { headerBlock, savedReportProofs } from "../inbound/mailed-report.js";
import { loadNewsletter } from "../newsletter.js";
import { parseMailbox } from "../sending/identity.js";
import { openConfiguredDatabase } from "./context.js";
import { readReportFile } from "./report-file.js";

/**
 * `digest bounce FILE --apply`: the same proof and policy as the inbound server (bounces/apply.ts)
 * for a report saved to a file. The delivery is named by the VERP address the report was sent to
 * (Delivered-To / X-Original-To / To) or by our signed Message-ID in the returned headers; a report
 * with neither, or naming another recipient, is not applied and the reason is printed.
 */
export async function applyBounceFile(file: string): Promise<{ bounce: Bounce; applied: ReportOutcome }> {
  const raw = await readReportFile(file, PARSED_BYTES);
  const bounce = await parseBounce(raw);
  const { softBounceLimit, deferHorizonSeconds, mailDomain, mailFrom, newsletterFile } = loadConfig([
    "softBounceLimit",
    "deferHorizonSeconds",
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
  const proofs = savedReportProofs(headerBlock(raw), bounce, { secret, domain });
  const database = await openConfiguredDatabase();
  try {
    const applied = await applyReport(
      { db: database.db, secret, domain, softBounceLimit, deferHorizonSeconds },
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

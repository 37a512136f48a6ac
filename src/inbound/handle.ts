import { type ParsedMail, simpleParser } from "mailparser";
import type { ReportOutcome, ReportProof } from "../bounces/apply.js";
import type { Bounce } from "../bounces/bounce.js";
import { parseBounce } from "../bounces/parse.js";
import { DigestError } from "../errors.js";
import type { Logger } from "../log.js";
import { verifyDeliveryToken, verifySubscriberToken } from "../subscribers/tokens.js";
import { readCommand } from "./command.js";
import { replyForbidden } from "./loop-safety.js";
import type { Recipient } from "./recipient.js";

/**
 * What the inbound server may do. It never writes subscriber state itself: it hands each message
 * to these, which the process entry point wires to the subscription and bounce policy modules.
 */
export interface InboundActions {
  /** Create a pending subscriber (consent source "email") and mail the confirmation link. */
  subscribe(email: string, meta: { ip?: string }): Promise<void>;
  /** Unsubscribe; `notify` false when a goodbye mail would be a reply to a robot. */
  unsubscribe(target: { subscriberId: string } | { email: string }, meta: { notify: boolean }): Promise<void>;
  /**
   * Proof, then the bounce policy (one transaction): see bounces/apply.ts. The outcome says whether
   * the report was applied, or why not.
   */
  applyReport(bounce: Bounce, proofs: ReportProof[], source: "dsn" | "arf"): Promise<ReportOutcome>;
}

export interface InboundContext {
  domain: string;
  secret: string;
  log: Logger;
  actions: InboundActions;
}

export interface InboundMessage {
  raw: Buffer;
  envelopeFrom: string;
  recipients: Recipient[];
  remoteAddress?: string;
}

/** What happened to a message, for logs and tests. */
export type Outcome =
  | { action: "subscribed" | "unsubscribed"; address?: string }
  | { action: "bounce"; type: Bounce["type"]; deliveryId?: number }
  | { action: "ignored"; why: string };

export async function handleMessage(ctx: InboundContext, message: InboundMessage): Promise<Outcome[]> {
  let parsed: ParsedMail | undefined;
  try {
    parsed = await simpleParser(message.raw, {
      skipHtmlToText: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
  } catch (error) {
    ctx.log.info({ err: error }, "inbound: unparseable message ignored");
  }
  const fromAddress = parsed?.from?.value[0]?.address?.toLowerCase();
  const header = (name: string) => {
    const value = parsed?.headers.get(name);
    if (value === undefined) return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  const forbidden = replyForbidden({ envelopeFrom: message.envelopeFrom, header, fromAddress }, ctx.domain);
  const outcomes: Outcome[] = [];
  for (const recipient of message.recipients) {
    try {
      outcomes.push(await handleOne(ctx, message, recipient, { parsed, fromAddress, forbidden }));
    } catch (error) {
      // Bad input (an unusable From address, say) is final: retrying the message cannot fix it, and
      // neither can it bring back a reader who was erased (a late List-Unsubscribe mail names one).
      // Anything else (the database is down) goes up, and the sender is asked to retry.
      if (!(error instanceof DigestError && (error.kind === "invalid" || error.kind === "not_found")))
        throw error;
      outcomes.push({ action: "ignored", why: error.message });
    }
  }
  return outcomes;
}

async function handleOne(
  ctx: InboundContext,
  message: InboundMessage,
  recipient: Recipient,
  facts: { parsed?: ParsedMail; fromAddress?: string; forbidden?: string },
): Promise<Outcome> {
  switch (recipient.kind) {
    case "bounce": {
      const deliveryId = verifyDeliveryToken(ctx.secret, recipient.token);
      if (deliveryId === undefined) return { action: "ignored", why: "bounce address with a bad token" };
      return bounce(ctx, message.raw, deliveryId);
    }
    case "subscribe":
      return subscribe(ctx, message, facts);
    case "unsubscribe": {
      if (recipient.token) {
        const subscriberId = verifySubscriberToken(ctx.secret, "unsubscribe", recipient.token);
        if (!subscriberId) return { action: "ignored", why: "unsubscribe address with a bad token" };
        await ctx.actions.unsubscribe({ subscriberId }, { notify: !facts.forbidden });
        return { action: "unsubscribed" };
      }
      if (!facts.fromAddress) return { action: "ignored", why: "unsubscribe mail without a From address" };
      await ctx.actions.unsubscribe({ email: facts.fromAddress }, { notify: !facts.forbidden });
      return { action: "unsubscribed", address: facts.fromAddress };
    }
    case "mailbox": {
      // Reports (DSNs sent to From instead of the return path, FBL complaints to abuse@) first.
      const report = await bounce(ctx, message.raw, undefined);
      if (report.action === "bounce" && report.type !== "none") return report;
      const command = readCommand(facts.parsed?.subject, facts.parsed?.text);
      if (command === "subscribe") return subscribe(ctx, message, facts);
      if (command === "unsubscribe" && facts.fromAddress && !facts.forbidden) {
        await ctx.actions.unsubscribe({ email: facts.fromAddress }, { notify: true });
        return { action: "unsubscribed", address: facts.fromAddress };
      }
      return { action: "ignored", why: "no command and no report" };
    }
  }
}

async function subscribe(
  ctx: InboundContext,
  message: InboundMessage,
  facts: { parsed?: ParsedMail; fromAddress?: string; forbidden?: string },
): Promise<Outcome> {
  // A confirmation mail is a reply: never to a robot, a list, a bounce or ourselves.
  if (facts.forbidden) return { action: "ignored", why: `no reply: ${facts.forbidden}` };
  if (!facts.fromAddress) return { action: "ignored", why: "no From address" };
  await ctx.actions.subscribe(facts.fromAddress, { ip: message.remoteAddress });
  return { action: "subscribed", address: facts.fromAddress };
}

/**
 * Parses a report and hands it to the policy with what proves it answers our mail: the VERP token
 * (already verified from the envelope recipient) and the Message-ID the report quotes (verified by
 * its signature in bounces/apply.ts). A report with neither is not applied: anyone can mail
 * postmaster@ a "bounce" for a reader's address, and it must not stop their mail.
 */
async function bounce(
  ctx: InboundContext,
  raw: Buffer,
  verifiedDelivery: number | undefined,
): Promise<Outcome> {
  const parsed = await parseBounce(raw);
  if (parsed.type === "none") return { action: "bounce", type: "none", deliveryId: verifiedDelivery };
  const source = parsed.type === "complaint" ? "arf" : "dsn";
  const proofs: ReportProof[] = [];
  if (verifiedDelivery !== undefined) proofs.push({ kind: "verp", deliveryId: verifiedDelivery });
  if (parsed.originalMessageId) proofs.push({ kind: "message-id", messageId: parsed.originalMessageId });
  const outcome = await ctx.actions.applyReport(parsed, proofs, source);
  if (!outcome.applied) {
    ctx.log.info(
      { deliveryId: outcome.deliveryId, why: outcome.why },
      `inbound: ${parsed.type} report ignored`,
    );
    return { action: "ignored", why: `a ${parsed.type} report not applied: ${outcome.why}` };
  }
  return { action: "bounce", type: parsed.type, deliveryId: outcome.deliveryId };
}

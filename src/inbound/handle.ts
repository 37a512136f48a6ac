import { createHash } from "node:crypto";
import type { ReportOutcome, ReportProof } from "../bounces/apply.js";
import type { Bounce } from "../bounces/bounce.js";
import { DigestError } from "../errors.js";
import type { MailLanguageHints } from "../i18n/choose.js";
import { limitKey, type RateLimiter } from "../limits.js";
import type { Logger } from "../log.js";
import { verifyDeliveryToken, verifySubscriberToken } from "../subscribers/tokens.js";
import { reportIdOf } from "./mailed-report.js";
import type { ReadResult } from "./read.js";
import { type MessageReader, UnreadableMessage } from "./read-pool.js";
import type { Recipient } from "./recipient.js";

/**
 * What the inbound server may do. It never writes subscriber state itself: it hands each message
 * to these, which the process entry point wires to the subscription and bounce policy modules.
 */
export interface InboundActions {
  /** Create a pending subscriber (consent source "email") and mail the confirmation link. */
  subscribe(email: string, meta: { ip?: string; language?: MailLanguageHints }): Promise<void>;
  /**
   * Unsubscribe the reader a signed `unsubscribe+<token>@` address names; `notify` false when a
   * goodbye mail would be a reply to a robot.
   */
  unsubscribe(target: { subscriberId: string }, meta: { notify: boolean }): Promise<void>;
  /**
   * An unproven "unsubscribe" (bare `unsubscribe@`, or the command to another mailbox): a From
   * header is easy to forge, so nothing changes; a reader at that address is mailed their own link.
   */
  mailUnsubscribeLink(email: string): Promise<void>;
  /**
   * Proof, then the bounce policy (one transaction): see bounces/apply.ts. The outcome says whether
   * the report was applied, or why not.
   */
  applyReport(
    bounce: Bounce,
    proofs: ReportProof[],
    source: "dsn" | "arf",
    reportId: string,
  ): Promise<ReportOutcome>;
}

/**
 * Counters per client IP (IPv6 per /64) and per sender domain. Commands over the limit are
 * dropped (a person can simply mail again later); reports over the limit are answered "try again
 * later", so a real mail server's report is delayed, never lost. The client's count comes before
 * the message is read, so a client over its limit costs no parsing.
 */
export interface InboundLimits {
  commands: RateLimiter;
  reports: RateLimiter;
  /**
   * Mail to a signed address (a VERP bounce, `unsubscribe+<token>@`), per client IP. The token
   * proves the address was ours to give, not that the client is a mail server: a reader holds their
   * own, so without this count one reader could have any number of messages read. Generous (one
   * relay's bounces after a large send); over it the client is told to try again later.
   */
  signed: RateLimiter;
}

export interface InboundContext {
  domain: string;
  secret: string;
  log: Logger;
  actions: InboundActions;
  limits: InboundLimits;
  /** Reads messages off the event loop, with a time limit (read-pool.ts). */
  reader: MessageReader;
}

export interface InboundMessage {
  /** The message's first bytes (PARSED_BYTES): all a reader reads, so all the server keeps. */
  raw: Buffer;
  envelopeFrom: string;
  recipients: Recipient[];
  remoteAddress?: string;
}

/** What happened to a message, for logs and tests: never an address, at most its hash. */
export type Outcome =
  | { action: "subscribed" | "unsubscribed" | "link-mailed"; sender?: string }
  | { action: "bounce"; type: Bounce["type"]; deliveryId?: number }
  | { action: "ignored"; why: string; deliveryId?: number; sender?: string };

/** Reports over the limit: the server answers 451 so the reporting server retries later. */
export class RateLimited extends DigestError {
  override readonly name = "RateLimited";
  constructor(readonly what: string) {
    super("unavailable", `too many ${what}; try again later`);
  }
}

/** A short, stable stand-in for an address in logs (no address goes into a log line). */
export function addressTag(address: string): string {
  return createHash("sha256").update(address.toLowerCase()).digest("hex").slice(0, 12);
}

/** The message as read, at most once however many recipients it has. */
type Facts = () => Promise<ReadResult>;

export async function handleMessage(ctx: InboundContext, message: InboundMessage): Promise<Outcome[]> {
  // One read serves every recipient: the report is read too when a recipient may receive one.
  const report = message.recipients.some((r) => r.kind === "bounce" || r.kind === "mailbox");
  let read: Promise<ReadResult> | undefined;
  const facts: Facts = () => {
    read ??= ctx.reader
      .read(message.raw, { report, facts: { envelopeFrom: message.envelopeFrom, domain: ctx.domain } })
      .then((result) => {
        if (result.unparseable) ctx.log.info("inbound: unparseable message ignored");
        return result;
      });
    return read;
  };
  // Before anything is read. The other recipients are counted by their own kind (handleOne).
  const signed = message.recipients.some((r) => r.kind === "bounce" || (r.kind === "unsubscribe" && r.token));
  if (signed && !(await clientWithin(ctx.limits.signed, "signed", message.remoteAddress))) {
    ctx.log.info({ remote: limitKey(message.remoteAddress) }, "inbound: signed mail over the rate limit");
    throw new RateLimited("messages");
  }
  // Recipients arrive distinct: the server counts a repeated RCPT TO once (server.ts).
  const outcomes: Outcome[] = [];
  for (const recipient of message.recipients) {
    try {
      outcomes.push(await handleOne(ctx, message, recipient, facts));
    } catch (error) {
      // Bad input (an unusable From address, say) is final: retrying the message cannot fix it, and
      // neither can it bring back a reader who was erased (a late List-Unsubscribe mail names one).
      // Anything else (the database is down, too many reports) goes up, and the sender is asked to
      // retry. A message that cannot be read goes up too: the server refuses it.
      if (
        !(error instanceof DigestError && (error.kind === "invalid" || error.kind === "not_found")) ||
        error instanceof UnreadableMessage
      )
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
  facts: Facts,
): Promise<Outcome> {
  switch (recipient.kind) {
    case "bounce": {
      const deliveryId = verifyDeliveryToken(ctx.secret, recipient.token);
      if (deliveryId === undefined) return { action: "ignored", why: "bounce address with a bad token" };
      return bounce(ctx, message, facts, deliveryId);
    }
    case "subscribe":
    case "unsubscribe": {
      if (recipient.kind === "unsubscribe" && recipient.token) {
        const subscriberId = verifySubscriberToken(ctx.secret, "unsubscribe", recipient.token);
        if (!subscriberId) return { action: "ignored", why: "unsubscribe address with a bad token" };
        const { forbidden } = await facts();
        await ctx.actions.unsubscribe({ subscriberId }, { notify: !forbidden });
        return { action: "unsubscribed" };
      }
      if (!(await clientWithin(ctx.limits.commands, "command", message.remoteAddress)))
        return { action: "ignored", why: `${recipient.kind} mail over the rate limit` };
      return command(ctx, message, facts, recipient.kind);
    }
    case "mailbox": {
      // Reports (DSNs sent to From instead of the return path, FBL complaints to abuse@) first.
      if (!(await clientWithin(ctx.limits.reports, "report", message.remoteAddress))) {
        ctx.log.info({ remote: limitKey(message.remoteAddress) }, "inbound: reports over the rate limit");
        throw new RateLimited("reports");
      }
      const report = await bounce(ctx, message, facts, undefined);
      if (report.action !== "bounce" || report.type !== "none") return report;
      const said = (await facts()).command;
      if (!said) return { action: "ignored", why: "no command and no report" };
      if (!(await clientWithin(ctx.limits.commands, "command", message.remoteAddress)))
        return { action: "ignored", why: `${said} mail over the rate limit` };
      return command(ctx, message, facts, said);
    }
  }
}

/**
 * A mailed command, its client already counted. Both answer the From address by mail, so neither
 * runs for a robot, a list, a bounce or ourselves (loop safety), nor past the per-sender-domain
 * limit. Neither changes a reader by itself: subscribe needs the confirmation click, and an
 * unproven unsubscribe mails the reader their own unsubscribe link.
 */
async function command(
  ctx: InboundContext,
  message: InboundMessage,
  facts: Facts,
  what: "subscribe" | "unsubscribe",
): Promise<Outcome> {
  const { forbidden, fromAddress, language } = await facts();
  if (forbidden) return { action: "ignored", why: `no reply: ${forbidden}` };
  if (!fromAddress) return { action: "ignored", why: "no From address" };
  const sender = addressTag(fromAddress);
  const domain = fromAddress.slice(fromAddress.lastIndexOf("@") + 1);
  if (!(await domainWithin(ctx.limits.commands, "command", domain)))
    return { action: "ignored", why: `${what} mail over the rate limit`, sender };
  if (what === "subscribe") {
    await ctx.actions.subscribe(fromAddress, {
      ip: message.remoteAddress,
      ...(language ? { language } : {}),
    });
    return { action: "subscribed", sender };
  }
  await ctx.actions.mailUnsubscribeLink(fromAddress);
  return { action: "link-mailed", sender };
}

/** Counts one message against its client's bucket (an IPv6 client by its /64). */
function clientWithin(limiter: RateLimiter, kind: string, remote: string | undefined): Promise<boolean> {
  return limiter.hit(`inbound-${kind}:ip:${limitKey(remote)}`);
}

/** Counts one message against its sender domain's bucket: known only once the message is read. */
function domainWithin(limiter: RateLimiter, kind: string, domain: string): Promise<boolean> {
  return limiter.hit(`inbound-${kind}:domain:${domain.toLowerCase() || "none"}`);
}

/**
 * Parses a report and hands it to the policy with what proves it answers our mail: the VERP token
 * (already verified from the envelope recipient) and the Message-ID the report quotes (verified by
 * its signature in bounces/apply.ts). A report with neither is not applied: anyone can mail
 * postmaster@ a "bounce" for a reader's address, and it must not stop their mail. Reports without
 * a VERP token are counted per client (before reading, by the caller) and per sender domain; over
 * the limit the sender is told to retry later (a VERP token already proves the report is about our
 * mail, so those are not counted).
 */
async function bounce(
  ctx: InboundContext,
  message: InboundMessage,
  facts: Facts,
  verifiedDelivery: number | undefined,
): Promise<Outcome> {
  const read = await facts();
  const parsed: Bounce = read.bounce ?? { type: "none", recipients: [] };
  if (parsed.type === "none") return { action: "bounce", type: "none", deliveryId: verifiedDelivery };
  if (verifiedDelivery === undefined) {
    const sender = message.envelopeFrom || read.fromAddress || "";
    const domain = sender.slice(sender.lastIndexOf("@") + 1);
    if (!(await domainWithin(ctx.limits.reports, "report", domain))) {
      ctx.log.info({ domain }, "inbound: reports over the rate limit");
      throw new RateLimited("reports");
    }
  }
  const source = parsed.type === "complaint" ? "arf" : "dsn";
  const proofs: ReportProof[] = [];
  if (verifiedDelivery !== undefined) proofs.push({ kind: "verp", deliveryId: verifiedDelivery });
  if (parsed.originalMessageId) proofs.push({ kind: "message-id", messageId: parsed.originalMessageId });
  const outcome = await ctx.actions.applyReport(parsed, proofs, source, reportIdOf(message.raw));
  if (!outcome.applied) {
    ctx.log.info(
      { deliveryId: outcome.deliveryId, why: outcome.why },
      `inbound: ${parsed.type} report ignored`,
    );
    return {
      action: "ignored",
      why: `a ${parsed.type} report not applied: ${outcome.why}`,
      deliveryId: outcome.deliveryId,
    };
  }
  return { action: "bounce", type: parsed.type, deliveryId: outcome.deliveryId };
}

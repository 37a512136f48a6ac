import { autoReplySign, type HeaderValues, headerName } from "../bounces/auto-reply.js";

/**
 * Loop safety stops replies, never bounce processing: a message that is automated (an auto-reply,
 * a bounce, list traffic) or comes from ourselves gets no confirmation, link or goodbye mail back,
 * and makes no subscriber, or two robots would mail each other forever (RFC 3834). This is the one
 * predicate every inbound path asks; bounce reports are parsed and applied whatever it says.
 */
export interface MessageFacts {
  /** The envelope sender (MAIL FROM); "" for the null sender `<>` that bounces use. */
  envelopeFrom: string;
  /**
   * Every header of the raw top-level block (lower-case name to values): mailparser folds the
   * List-* headers into one `list` object, where a check for `list-id` never finds them.
   */
  headers: HeaderValues;
  /** The decoded subject (an out-of-office subject is often encoded: "=?UTF-8?B?...?="). */
  subject: string;
  fromAddress?: string;
}

export function replyForbidden(facts: MessageFacts, ownDomain: string): string | undefined {
  if (!facts.envelopeFrom) return "empty envelope sender";
  const { headers } = facts;
  const responder = autoReplySign(headers, facts.subject);
  if (responder) return responder;
  // A list that adds its Precedence below the writer's one still says so: every value counts.
  const precedence = headers
    .get("precedence")
    ?.map((value) => value.trim().toLowerCase())
    .find((value) => /^(bulk|list|junk)\b/.test(value));
  if (precedence) return `Precedence: ${precedence}`;
  // RFC 2369 and 2919: any List-* header is list traffic, whichever of them a list chose to send.
  const listHeader = [...headers.keys()].find((name) => name.startsWith("list-"));
  if (listHeader) return `${headerName(listHeader)} present`;
  // Exchange sets it on mail that must not be answered automatically (its own notices included).
  if (headers.has("x-auto-response-suppress")) return "X-Auto-Response-Suppress present";
  // A delivery, read (RFC 8098) or feedback report is a program's, from whatever address it comes.
  if (/^\s*multipart\/report\b/i.test(headers.get("content-type")?.[0] ?? "")) return "a report";
  const from = (facts.fromAddress ?? "").toLowerCase();
  if (!from) return "no From address";
  const sender = facts.envelopeFrom.toLowerCase();
  for (const address of [from, sender]) {
    if (address.endsWith(`@${ownDomain.toLowerCase()}`)) return "mail from our own domain";
    if (DAEMON.test(address)) return "a daemon address";
  }
  // A list's envelope sender says "list" even when a forwarder dropped its List-* headers.
  if (LIST_SENDER.test(sender)) return "a mailing list's envelope sender";
  return undefined;
}

/** Addresses that only programs send from (RFC 2142 §4 postmaster, MAILER-DAEMON, no-reply). */
const DAEMON = /^(?:mailer-daemon|postmaster|no-?reply|no_reply|do-?not-?reply|do_not_reply)@/;

/**
 * The return paths of list software: Mailman's `list-bounces[+verp]@`, Majordomo's `owner-list@`.
 * (`-owner@` and `-request@` are left out: a person may well write from `product-owner@`.)
 */
const LIST_SENDER = /^(?:owner-[^@]+|[^@]+-bounces(?:\+[^@]*)?)@/;

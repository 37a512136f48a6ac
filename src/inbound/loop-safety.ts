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
  const precedence = headers.get("precedence")?.[0]?.trim().toLowerCase();
  if (precedence && /^(bulk|list|junk)\b/.test(precedence)) return `Precedence: ${precedence}`;
  // RFC 2369 and 2919: any List-* header is list traffic, whichever of them a list chose to send.
  const listHeader = [...headers.keys()].find((name) => name.startsWith("list-"));
  if (listHeader) return `${headerName(listHeader)} present`;
  // Exchange sets it on mail that must not be answered automatically (its own notices included).
  if (headers.has("x-auto-response-suppress")) return "X-Auto-Response-Suppress present";
  const from = (facts.fromAddress ?? "").toLowerCase();
  if (!from) return "no From address";
  const sender = facts.envelopeFrom.toLowerCase();
  for (const address of [from, sender]) {
    if (address.endsWith(`@${ownDomain.toLowerCase()}`)) return "mail from our own domain";
    if (/^(mailer-daemon|postmaster|noreply|no-reply|do-not-reply)@/.test(address)) return "a daemon address";
  }
  return undefined;
}

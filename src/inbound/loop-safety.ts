/**
 * Loop safety stops replies, never bounce processing: a message that is automated (an auto-reply,
 * a bounce, list traffic) or comes from ourselves gets no confirmation or goodbye mail back, or two
 * robots would mail each other forever (RFC 3834).
 */
export interface MessageFacts {
  /** The envelope sender (MAIL FROM); "" for the null sender `<>` that bounces use. */
  envelopeFrom: string;
  /** Header name (lower case) to its value(s). */
  header(name: string): string | undefined;
  fromAddress?: string;
}

export function replyForbidden(facts: MessageFacts, ownDomain: string): string | undefined {
  if (!facts.envelopeFrom) return "empty envelope sender";
  const autoSubmitted = facts.header("auto-submitted")?.trim().toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith("no")) return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = facts.header("precedence")?.trim().toLowerCase();
  if (precedence && /^(bulk|list|junk)\b/.test(precedence)) return `Precedence: ${precedence}`;
  if (facts.header("list-id")) return "List-Id present";
  if (facts.header("x-autoreply") || facts.header("x-autorespond")) return "auto-reply header";
  const from = (facts.fromAddress ?? "").toLowerCase();
  if (!from) return "no From address";
  const sender = facts.envelopeFrom.toLowerCase();
  for (const address of [from, sender]) {
    if (address.endsWith(`@${ownDomain.toLowerCase()}`)) return "mail from our own domain";
    if (/^(mailer-daemon|postmaster|noreply|no-reply|do-not-reply)@/.test(address)) return "a daemon address";
  }
  return undefined;
}

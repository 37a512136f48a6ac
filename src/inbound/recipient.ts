/**
 * Which of our addresses a message was sent to. Anything not listed here is refused at RCPT with
 * 550, so the server is never a relay.
 */
export type Recipient =
  | { kind: "subscribe" }
  | { kind: "unsubscribe"; token?: string }
  | { kind: "bounce"; token: string }
  /** The newsletter's own address (From/Reply-To), postmaster@ and abuse@: commands, replies, FBL reports. */
  | { kind: "mailbox"; name: string };

export function routeRecipient(
  address: string,
  domain: string,
  mailboxes: readonly string[],
): Recipient | undefined {
  const at = address.lastIndexOf("@");
  if (at < 1) return undefined;
  const local = address.slice(0, at).toLowerCase();
  if (address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  if (local === "subscribe") return { kind: "subscribe" };
  if (local === "unsubscribe") return { kind: "unsubscribe" };
  const plus = /^(unsubscribe|bounces)\+([a-z2-7]{10,120})$/.exec(local);
  if (plus?.[1] === "unsubscribe") return { kind: "unsubscribe", token: plus[2] };
  if (plus?.[1] === "bounces" && plus[2]) return { kind: "bounce", token: plus[2] };
  if (mailboxes.includes(local)) return { kind: "mailbox", name: local };
  return undefined;
}

/** The mailboxes besides the command addresses: our From's local part, and the RFC 5321/2142 ones. */
export function knownMailboxes(fromAddress: string, domain: string): string[] {
  const [local, host] = fromAddress.toLowerCase().split("@");
  const own = local && host === domain.toLowerCase() ? [local] : [];
  return [...new Set([...own, "postmaster", "abuse"])];
}

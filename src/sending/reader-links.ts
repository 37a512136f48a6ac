import { signDeliveryToken, signSubscriberToken } from "../subscribers/tokens.js";
import type { MailIdentity } from "./identity.js";

/** The per-reader parts of a message: everything a rendition's placeholders stand for. */
export interface ReaderLinks {
  email: string;
  unsubscribeUrl: string;
  manageUrl: string;
  viewUrl: string;
  /** `mailto:` target for List-Unsubscribe; its token identifies the reader. */
  unsubscribeMailto: string;
}

export function readerLinks(
  identity: MailIdentity,
  secret: string,
  reader: { subscriberId: string; email: string },
  issueSlug: string,
): ReaderLinks {
  const unsub = signSubscriberToken(secret, "unsubscribe", reader.subscriberId);
  return {
    email: reader.email,
    unsubscribeUrl: `${identity.publicUrl}/unsubscribe/${unsub}`,
    manageUrl: `${identity.publicUrl}/manage/${signSubscriberToken(secret, "manage", reader.subscriberId)}`,
    viewUrl: `${identity.publicUrl}/archive/${issueSlug}`,
    unsubscribeMailto: `mailto:unsubscribe+${unsub}@${identity.domain}?subject=unsubscribe`,
  };
}

/** VERP: each delivery's bounces come back to an address that names it. */
export function returnPath(identity: MailIdentity, secret: string, deliveryId: number): string {
  return `bounces+${signDeliveryToken(secret, deliveryId)}@${identity.domain}`;
}

export { messageId } from "./message-id.js";

import MailComposer from "nodemailer/lib/mail-composer";
import type { Rendition } from "../issues/render.js";
import { isSendableAddress } from "../subscribers/address.js";
import { listId, type MailIdentity } from "./identity.js";
import type { ReaderLinks } from "./reader-links.js";

/**
 * The headers every issue message carries (SPEC §6). Values come from our own settings and signed
 * tokens; nodemailer encodes them, and no reader-typed text goes into any of them except the
 * recipient address, which was validated when the subscriber was stored.
 */
export function issueHeaders(
  identity: MailIdentity,
  links: Pick<ReaderLinks, "unsubscribeUrl" | "unsubscribeMailto">,
): Record<string, PreparedHeader> {
  return prepared({
    "List-Unsubscribe": `<${links.unsubscribeUrl}>, <${links.unsubscribeMailto}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-Id": listId(identity),
    "List-Archive": `<${identity.publicUrl}/>`,
  });
}

export interface PreparedHeader {
  prepared: true;
  value: string;
}

/**
 * Marks header values as already encoded so nodemailer does not Q-encode List-Id and friends into
 * something list-aware clients cannot read. Only for values we build from validated parts; a line
 * break would end the header, so one is refused outright.
 */
export function prepared(headers: Record<string, string>): Record<string, PreparedHeader> {
  const out: Record<string, PreparedHeader> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n\0]/.test(value) || /[^\x20-\x7e]/.test(value))
      throw new Error(`header ${name} has a character it cannot carry`);
    out[name] = { prepared: true, value };
  }
  return out;
}

/** A complete MIME message (multipart/alternative: text, then HTML) built with nodemailer. */
export async function composeMessage(input: {
  identity: MailIdentity;
  to: string;
  subject: string;
  rendition: Rendition;
  headers: Record<string, PreparedHeader | string>;
  messageId: string;
  returnPath: string;
  date?: Date;
}): Promise<Buffer> {
  // A string `to` is parsed by nodemailer as an address list ("a@x, b@y" is two recipients, a
  // display name passes through), so only a bare address is taken, and it goes in as one.
  if (!isSendableAddress(input.to)) throw new Error("the recipient is not one bare address");
  const composer = new MailComposer({
    from: input.identity.from,
    replyTo: input.identity.replyTo,
    to: { name: "", address: input.to },
    subject: input.subject,
    text: input.rendition.text,
    html: input.rendition.html,
    headers: input.headers,
    messageId: input.messageId,
    date: input.date ?? new Date(),
    envelope: { from: input.returnPath, to: [input.to] },
    textEncoding: "quoted-printable",
  });
  const mail = composer.compile();
  mail.keepBcc = false;
  return mail.build();
}

import MailComposer from "nodemailer/lib/mail-composer";
import type { TransactionalMail } from "../issues/transactional.js";
import { isSendableAddress } from "../subscribers/address.js";
import { issueHeaders, prepared } from "./compose.js";
import type { MailIdentity } from "./identity.js";
import type { Envelope } from "./mailer.js";
import type { TransactionalKind } from "../queues.js";
import type { ReaderLinks } from "./reader-links.js";

/**
 * One transactional message as raw MIME. The recipient is the bare, validated address: no reader
 * name ever goes into a header. A mail to a confirmed reader (welcome) carries both
 * List-Unsubscribe headers like an issue (SPEC §6); confirm and goodbye are marked
 * `Auto-Submitted: auto-generated` so autoresponders do not answer them.
 */
export interface TransactionalMessage {
  envelope: Envelope;
  raw: Buffer;
  messageId: string;
}

export async function composeTransactional(input: {
  identity: MailIdentity;
  kind: TransactionalKind;
  to: string;
  mail: TransactionalMail;
  /** Required for the welcome mail. */
  links?: Pick<ReaderLinks, "unsubscribeUrl" | "unsubscribeMailto">;
  /** Stable per job, so a retried job sends the same Message-ID. */
  key: string;
  date?: Date;
}): Promise<TransactionalMessage> {
  if (!isSendableAddress(input.to)) throw new Error("the recipient is not a bare address");
  if (input.kind === "welcome" && !input.links) throw new Error("a welcome mail needs its unsubscribe links");
  const headers =
    input.kind === "welcome" && input.links
      ? issueHeaders(input.identity, input.links)
      : prepared({ "Auto-Submitted": "auto-generated" });
  const messageId = `<${input.kind}.${input.key.replace(/[^A-Za-z0-9.-]/g, ".")}@${input.identity.domain}>`;
  const composer = new MailComposer({
    from: input.identity.from,
    replyTo: input.identity.replyTo,
    to: { name: "", address: input.to },
    subject: input.mail.subject,
    text: input.mail.text,
    html: input.mail.html,
    headers,
    messageId,
    date: input.date ?? new Date(),
    textEncoding: "quoted-printable",
  });
  const raw = await composer.compile().build();
  // Bounces of transactional mail go to the newsletter's own address: they have no delivery to name.
  return { envelope: { from: input.identity.from.address, to: [input.to] }, raw, messageId };
}

import { UnrecoverableError } from "bullmq";
import { eq } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { type Subscriber, subscribers } from "../db/schema.js";
import type { Language } from "../i18n/catalogue.js";
import { readerLanguage } from "../i18n/choose.js";
import type { TransactionalMail } from "../issues/transactional-content.js";
import type { Newsletter } from "../newsletter.js";
import type { TransactionalJob, TransactionalKind } from "../queues.js";
import { isSendableAddress } from "../subscribers/address.js";
import { isSuppressed } from "../subscribers/suppression.js";
import { signSubscriberToken } from "../subscribers/tokens.js";
import type { MailIdentity } from "./identity.js";
import type { Envelope, Mailer } from "./mailer.js";
import { type ReaderLinks, readerLinks } from "./reader-links.js";
import { buildTemplate, spliceMessage } from "./template.js";

/**
 * Transactional mail (confirm, welcome, goodbye, unsubscribe-link): one job of the `transactional` queue names a
 * subscriber only; this re-reads the row and does nothing when the mail no longer fits (a confirm
 * mail for a reader who is already active, anything to a suppressed address). SMTP 4xx and network
 * errors are thrown for the job's backoff; a 5xx answer will not get better, so it is
 * `UnrecoverableError`.
 */
export interface TransactionalDeps {
  db: Db;
  mailer: Mailer;
  secret: string;
  identity: MailIdentity;
  newsletter: Newsletter;
  /** LANGUAGES: a reader's stored language is used while it is one of these, else the first. */
  languages?: readonly [Language, ...Language[]];
}

/** Why a job ended without a mail, or undefined when the mail went out. */
export type SkipReason = "gone" | "status" | "suppressed";

export async function sendTransactional(
  deps: TransactionalDeps,
  job: TransactionalJob,
  key: string,
): Promise<SkipReason | undefined> {
  // Loaded on first use: a worker process that never sends one never loads React.
  const { renderTransactional } = await import("../issues/transactional-content.js");
  const [row] = await deps.db.select().from(subscribers).where(eq(subscribers.id, job.subscriberId));
  if (!row) return "gone";
  if (!fits(job.kind, row)) return "status";
  if (await isSuppressed(deps.db, row.email)) return "suppressed";
  const base = deps.identity.publicUrl;
  const links = readerLinks(deps.identity, deps.secret, { subscriberId: row.id, email: row.email }, "");
  const mail = await renderTransactional(
    job.kind === "confirm"
      ? {
          kind: "confirm",
          confirmUrl: `${base}/confirm/${signSubscriberToken(deps.secret, "confirm", row.id)}`,
          via: via(row),
        }
      : job.kind === "welcome"
        ? {
            kind: "welcome",
            name: row.name ?? undefined,
            archiveUrl: `${base}/`,
            manageUrl: links.manageUrl,
            unsubscribeUrl: links.unsubscribeUrl,
          }
        : job.kind === "unsubscribe-link"
          ? { kind: "unsubscribe-link", unsubscribeUrl: links.unsubscribeUrl, manageUrl: links.manageUrl }
          : { kind: "goodbye", resubscribeUrl: links.manageUrl },
    deps.newsletter,
    // Read from the row at send time: a language changed on the manage page counts from the next mail.
    readerLanguage(row.language, deps.languages ?? ["en"]),
  );
  const message = await composeTransactional({ identity: deps.identity, kind: job.kind, mail, links, key });
  try {
    await deps.mailer.sendRaw(message.envelope, message.raw);
  } catch (error) {
    // A failed job keeps its error in Redis for days, and servers quote the address in their
    // answers ("550 <x@y>: no such user"): the job keeps the answer without it, so an erasure
    // leaves no copy behind in the queue.
    const code = (error as { responseCode?: number }).responseCode;
    const text = withoutAddress((error as Error).message ?? String(error), row.email);
    if (code !== undefined && code >= 500) {
      throw new UnrecoverableError(`SMTP refused the ${job.kind} mail: ${text}`);
    }
    throw Object.assign(new Error(`SMTP did not take the ${job.kind} mail: ${text}`), { responseCode: code });
  }
  return undefined;
}

function withoutAddress(text: string, address: string): string {
  const at = text.toLowerCase().indexOf(address.toLowerCase());
  return at === -1
    ? text
    : withoutAddress(`${text.slice(0, at)}<reader>${text.slice(at + address.length)}`, address);
}

export interface TransactionalMessage {
  envelope: Envelope;
  raw: Buffer;
  messageId: string;
}

/**
 * One transactional message as raw MIME, through the same builder as an issue. The recipient is the
 * bare, validated address: no reader name ever goes into a header. The welcome and unsubscribe-link
 * mails go to a confirmed reader and carry the List-* headers like an issue; confirm and goodbye
 * are notices.
 */
export async function composeTransactional(input: {
  identity: MailIdentity;
  kind: TransactionalKind;
  mail: TransactionalMail;
  links: ReaderLinks;
  /** Stable per job, so a retried job sends the same Message-ID. */
  key: string;
  date?: Date;
}): Promise<TransactionalMessage> {
  const to = input.links.email;
  if (!isSendableAddress(to)) throw new Error("the recipient is not a bare address");
  const template = await buildTemplate({
    identity: input.identity,
    subject: input.mail.subject,
    rendition: { html: input.mail.html, text: input.mail.text },
    language: input.mail.language,
    // Mail to a confirmed reader carries the List-Unsubscribe headers (SPEC §6).
    kind: input.kind === "welcome" || input.kind === "unsubscribe-link" ? "list" : "notice",
    // Every mail Digest sends on its own is marked so that no responder answers it (loop safety).
    automatic: true,
    ...(input.date ? { date: input.date } : {}),
  });
  const messageId = `<${input.kind}.${input.key.replace(/[^A-Za-z0-9.-]/g, ".")}@${input.identity.domain}>`;
  const raw = spliceMessage(template, { ...input.links, messageId });
  // Bounces of transactional mail go to the newsletter's own address: they have no delivery to name.
  return { envelope: { from: input.identity.from.address, to: [to] }, raw, messageId };
}

function fits(kind: TransactionalKind, row: Subscriber): boolean {
  if (kind === "confirm") return row.status === "pending";
  if (kind === "welcome" || kind === "unsubscribe-link") return row.status === "active";
  return row.status === "unsubscribed";
}

/** How the request came in, named in the mail so a reader who did not ask can tell. */
function via(row: Subscriber): "web" | "email" | "staff" {
  return row.consentSource === "email" || row.consentSource === "web" ? row.consentSource : "staff";
}

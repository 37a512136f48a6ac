import { domainToASCII } from "node:url";
import { simpleParser } from "mailparser";
import type { CapturedMessage } from "../helpers/smtp.js";

/**
 * Parses every captured message and lists what is wrong with it: more or fewer than one
 * recipient, a To that is not the envelope's, a header we never write (Bcc, Cc, a second To...),
 * a header line broken by a bare CR or LF, or the marker from a reader's name in the header block.
 */
const allowed = new Set([
  "from",
  "reply-to",
  "to",
  "subject",
  "message-id",
  "date",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "list-id",
  "list-archive",
  "auto-submitted",
  // Transactional mail names its language (one of our catalogue's codes, never reader input).
  "content-language",
  // SPEC §5: every mail Digest sends on its own asks responders not to answer it.
  "x-auto-response-suppress",
  "dkim-signature",
]);

export type MailKind = "confirm" | "welcome" | "goodbye" | "issue";

export interface MailReport {
  kinds: Partial<Record<MailKind, number>>;
  problems: string[];
}

export const asciiAddress = (address: string): string => {
  const at = address.lastIndexOf("@");
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`.toLowerCase();
};

export async function checkCapturedMail(
  messages: readonly CapturedMessage[],
  options: { marker?: string } = {},
): Promise<MailReport> {
  const kinds: MailReport["kinds"] = {};
  const problems: string[] = [];
  for (const [i, message] of messages.entries()) {
    const say = (what: string) => problems.push(`mail ${i} to ${JSON.stringify(message.to)}: ${what}`);
    const head = message.raw.toString("latin1").split("\r\n\r\n")[0] ?? "";
    if (/[^\r]\n|\r(?!\n)|\0/.test(head)) say("a bare CR, LF or NUL in the header block");
    if (options.marker && head.includes(options.marker)) say("a reader's name in the header block");
    const mail = await simpleParser(message.raw);
    const names = mail.headerLines.map((h) => h.key);
    for (const name of new Set(names)) {
      if (!allowed.has(name)) say(`unexpected header ${name}`);
      if (names.filter((n) => n === name).length > 1) say(`${name} appears more than once`);
    }
    for (const needed of ["from", "to", "message-id", "date"])
      if (!names.includes(needed)) say(`no ${needed} header`);
    if (message.to.length !== 1) say(`${message.to.length} envelope recipients`);
    const to = (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((t) => t.value);
    const envelopeTo = message.to[0] ?? "";
    if (to.length !== 1 || asciiAddress(to[0]?.address ?? "") !== asciiAddress(envelopeTo))
      say(`To is ${JSON.stringify(to)}, not the envelope's ${envelopeTo}`);
    if (to[0]?.name) say(`To carries a name: ${JSON.stringify(to[0].name)}`);
    if (mail.from?.value.length !== 1) say("not exactly one From address");
    // Every notice is auto-submitted (the welcome too, SPEC §5); an issue is not.
    const subject = mail.subject ?? "";
    const kind: MailKind = !names.includes("auto-submitted")
      ? "issue"
      : subject.startsWith("Confirm")
        ? "confirm"
        : subject.startsWith("Welcome")
          ? "welcome"
          : "goodbye";
    if (kind !== "issue" && !names.includes("x-auto-response-suppress"))
      say("a notice without X-Auto-Response-Suppress");
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    if (kind !== "confirm" && kind !== "goodbye" && !names.includes("list-unsubscribe"))
      say("a mail to a reader without List-Unsubscribe");
  }
  return { kinds, problems };
}

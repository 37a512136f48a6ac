import { randomBytes } from "node:crypto";
import type { CapturedMessage } from "../helpers/smtp.js";

/**
 * A DSN (RFC 3464) as a Postfix relay writes it (see test/fixtures/bounces/lhost-postfix-13.eml)
 * when the reader's own server refuses our message after the relay answered us 250: sent to the
 * message's return path (our VERP address) with the null sender, quoting the message's headers.
 */
export interface PostfixDsn {
  /** The VERP return path it is mailed to. */
  to: string;
  raw: string;
}

export function postfixDsn(
  message: CapturedMessage,
  options: {
    /** "failed" (a bounce) or "delayed" (Postfix's "still being retried" warning). */
    action?: "failed" | "delayed";
    status?: string;
    reply?: string;
  } = {},
): PostfixDsn {
  const action = options.action ?? "failed";
  const status = options.status ?? "5.2.2";
  const recipient = message.to[0] ?? "";
  const reply = options.reply ?? `552 ${status} <${recipient}>: Recipient address rejected: Mailbox full`;
  const queueId = randomBytes(5).toString("hex").toUpperCase();
  const boundary = `${queueId}.1764486000/relay.example.net`;
  const headers = message.raw.toString("utf8").split("\r\n\r\n")[0] ?? "";
  const warning = action === "delayed";
  const raw = [
    "Date: Mon, 30 Nov 2026 07:00:00 +0000 (UTC)",
    "From: MAILER-DAEMON@relay.example.net (Mail Delivery System)",
    `Subject: ${warning ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender"}`,
    `To: ${message.from}`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    "Content-Type: multipart/report; report-type=delivery-status;",
    `\tboundary="${boundary}"`,
    "Content-Transfer-Encoding: 8bit",
    `Message-Id: <20261130070000.${queueId}@relay.example.net>`,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${boundary}`,
    "Content-Description: Notification",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is the mail system at host relay.example.net.",
    "",
    ...(warning
      ? [
          "####################################################################",
          "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
          "####################################################################",
          "",
          "Your message could not be delivered for more than 4 hour(s).",
          "It will be retried until it is 5 day(s) old.",
        ]
      : [
          "I'm sorry to have to inform you that your message could not",
          "be delivered to one or more recipients. It's attached below.",
        ]),
    "",
    "                   The mail system",
    "",
    `<${recipient}>: host mx.readers.test[192.0.2.22] said: ${reply}`,
    "    (in reply to RCPT TO command)",
    "",
    `--${boundary}`,
    "Content-Description: Delivery report",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; relay.example.net",
    `X-Postfix-Queue-ID: ${queueId}`,
    `X-Postfix-Sender: rfc822; ${message.from}`,
    "Arrival-Date: Mon, 30 Nov 2026 02:59:58 +0000 (UTC)",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    `Original-Recipient: rfc822;${recipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    "Remote-MTA: dns; mx.readers.test",
    `Diagnostic-Code: smtp; ${reply}`,
    ...(warning ? ["Will-Retry-Until: Sat, 5 Dec 2026 02:59:58 +0000 (UTC)"] : []),
    "",
    `--${boundary}`,
    "Content-Description: Undelivered Message Headers",
    "Content-Type: text/rfc822-headers",
    "",
    headers,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return { to: message.from, raw };
}

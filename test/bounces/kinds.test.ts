import { describe, expect, it } from "vitest";
import type { BounceType } from "../../src/bounces/bounce.js";
import { parseBounce } from "../../src/bounces/parse.js";

/**
 * Kinds of report the classifier once got wrong on mail it had never seen, each written here in the
 * wording the server's documentation (and Sisimai's reason lists) give it, with our own addresses
 * and text: the rule must hold for the kind, not for one file of the corpus.
 */

const returned = [
  "From: Newsletter <news@news.example.com>",
  "To: reader@example.org",
  "Subject: Vol 2.6",
  "Message-ID: <d-123@news.example.com>",
].join("\n");

/** A multipart/report delivery-status notice: the human text, then the per-recipient fields. */
function dsn(opts: {
  from?: string;
  subject?: string;
  headers?: string[];
  human: string;
  status: string;
  diagnostic?: string;
  recipient?: string;
  boundary?: string;
}): string {
  const b = opts.boundary ?? "REPORT-7";
  const recipient = opts.recipient ?? "reader@example.org";
  return [
    `From: ${opts.from ?? "MAILER-DAEMON@mx.example.net"}`,
    "To: bounces@news.example.com",
    `Subject: ${opts.subject ?? "Delivery Status Notification (Failure)"}`,
    ...(opts.headers ?? []),
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    opts.human,
    "",
    `--${b}`,
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    "Action: failed",
    `Status: ${opts.status}`,
    ...(opts.diagnostic ? [`Diagnostic-Code: ${opts.diagnostic}`] : []),
    "",
    `--${b}`,
    "Content-Type: text/rfc822-headers",
    "",
    returned,
    "",
    `--${b}--`,
    "",
  ].join("\n");
}

/** A notice in plain text only, as many gateways write it, the returned message after it. */
function plain(opts: { from: string; subject: string; headers?: string[]; body: string }): string {
  return [
    `From: ${opts.from}`,
    "To: bounces@news.example.com",
    `Subject: ${opts.subject}`,
    ...(opts.headers ?? []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    opts.body,
    "",
    returned,
    "",
  ].join("\n");
}

/** An ARF report (RFC 5965) with the given Feedback-Type. */
function arf(feedbackType: string): string {
  const b = "ARF-1";
  return [
    "From: feedback@isp.example.net",
    "To: abuse@news.example.com",
    "Subject: Complaint about a message from news.example.com",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/plain",
    "",
    "A reader asked us to take them off this list.",
    "",
    `--${b}`,
    "Content-Type: message/feedback-report",
    "",
    `Feedback-Type: ${feedbackType}`,
    "User-Agent: ExampleFBL/1.0",
    "Version: 1",
    "Original-Rcpt-To: reader@example.org",
    "",
    `--${b}`,
    "Content-Type: message/rfc822",
    "",
    returned,
    "",
    "Hello.",
    "",
    `--${b}--`,
    "",
  ].join("\n");
}

interface Case {
  kind: string;
  message: string;
  type: BounceType;
  feedbackType?: string;
}

const cases: Case[] = [
  // MessageLabs (Symantec.cloud) quotes the receiving server's plain "No such user" in its DSN,
  // with only the catch-all 5.0.0 as Status.
  {
    kind: "MessageLabs quoting 'No such user' in its delivery-status part",
    message: dsn({
      from: "MAILER-DAEMON@messagelabs.com",
      subject: "Mail Delivery Failure",
      headers: ["X-Msg-Ref: server-3.tower-21.messagelabs.com!1700000000!123!1"],
      human:
        "This is an automatically generated Delivery Status Notification.\n\nDelivery to the following recipients failed.\n\n       reader@example.org",
      status: "5.0.0",
      diagnostic: "smtp; 550 No such user (reader@example.org)",
    }),
    type: "hard",
  },
  // A bare "550 user unknown" under a catch-all 5.0.0 stays soft: content filters answer so after
  // DATA too, and the corpus labels such a report filtered (rfc3464-35). "No such user" is the
  // directory's wording, above.
  {
    kind: "a bare '550 user unknown' with only a catch-all 5.0.0 stays soft",
    message: dsn({
      human: "Delivery to the following recipients failed.\n\n       reader@example.org",
      status: "5.0.0",
      diagnostic: "smtp; 550 user unknown",
    }),
    type: "soft",
  },
  // Yahoo's own notices: "Remote host said: ..." with the stage in brackets.
  {
    kind: "Yahoo quoting 'User unknown' at RCPT",
    message: plain({
      from: "MAILER-DAEMON@yahoo.com",
      subject: "Failure Notice",
      headers: ["X-YMailISG: abc"],
      body: "Sorry, we were unable to deliver your message to the following address.\n\n<reader@example.org>:\nRemote host said: 550 <reader@example.org>... User unknown [RCPT_TO]\n\n--- Below this line is a copy of the message.",
    }),
    type: "hard",
  },
  {
    kind: "Yahoo quoting 'No such user' with the answer on its own line",
    message: plain({
      from: "MAILER-DAEMON@yahoo.com",
      subject: "Failure Notice",
      headers: ["X-YMailISG: abc"],
      body: "Sorry, we were unable to deliver your message to the following address.\n\n<reader@example.org>:\nRemote host said:\n550 No such user here\n[RCPT_TO]\n\n--- Below this line is a copy of the message.",
    }),
    type: "hard",
  },
  // Sun Java System / Oracle Communications Messaging Server.
  {
    kind: "Oracle Messaging Server quoting 'No such user'",
    message: dsn({
      from: "Internet Mail Delivery <postmaster@mail.example.net>",
      subject: "Delivery Notification: Delivery has failed",
      boundary: "Boundary_(ID_abcdefghijklmnop)",
      human:
        "This report relates to a message you sent with the following header fields:\n\n  Message-id: <d-123@news.example.com>\n  To: reader@example.org\n\nYour message cannot be delivered to the following recipients:\n\n  Recipient address: reader@example.org\n  Reason: Remote SMTP server has rejected address\n  Diagnostic code: smtp;550 No such user\n  Remote system: dns;mx.example.org (TCP|192.0.2.1|47323|192.0.2.25|25) (mx.example.org ESMTP)",
      status: "5.0.0 (Remote SMTP server has rejected address)",
      diagnostic: "smtp;550 No such user",
    }),
    type: "hard",
  },
  {
    kind: "Sun Messaging Server quoting 'User unknown'",
    message: dsn({
      from: "Internet Mail Delivery <postmaster@mail.example.net>",
      subject: "Delivery Notification: Delivery has failed",
      boundary: "Boundary_(ID_qrstuvwxyz)",
      human:
        "This report relates to a message you sent with the following header fields:\n\nYour message cannot be delivered to the following recipients:\n\n  Recipient address: reader@example.org\n  Reason: Remote SMTP server has rejected address\n  Diagnostic code: smtp;550 <reader@example.org>... User unknown",
      status: "5.0.0 (Remote SMTP server has rejected address)",
      diagnostic: "smtp;550 <reader@example.org>... User unknown",
    }),
    type: "hard",
  },
  // Outlook.com / Office 365 for a domain that has no mail server.
  {
    kind: "Outlook: the domain is not reachable",
    message: dsn({
      from: "postmaster@outlook.com",
      subject: "Undeliverable: Vol 2.6",
      human:
        "Delivery has failed to these recipients or groups:\n\nreader@example.org\nThe domain example.org couldn't be reached.",
      status: "5.0.0",
      diagnostic:
        "smtp;554 The mail could not be delivered to the recipient because the domain is not reachable. Please check the domain and try again (-1915321397:308:-2147467259)",
    }),
    type: "hard",
  },
  // Exim naming the recipient's domain that does not exist.
  {
    kind: "Exim: the recipient's domain does not exist",
    message: plain({
      from: "Mail Delivery System <Mailer-Daemon@mx.example.net>",
      subject: "Mail delivery failed: returning message to sender",
      headers: ["X-Failed-Recipients: reader@nowhere.example.org"],
      body: "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  reader@nowhere.example.org\n    host mx.example.org [192.0.2.25]\n    SMTP error from remote mail server after RCPT TO:<reader@nowhere.example.org>:\n    550 nowhere.example.org does not exist\n\n------ This is a copy of the message, including all the headers. ------",
    }),
    type: "hard",
  },
  {
    kind: "Exim: 'Domain … does not exist' in its own words",
    message: plain({
      from: "Mail Delivery System <Mailer-Daemon@mx.example.net>",
      subject: "Mail delivery failed: returning message to sender",
      body: "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  reader@nowhere.example.org\n    Domain nowhere.example.org does not exist\n\n------ This is a copy of the message, including all the headers. ------",
    }),
    type: "hard",
  },
  // The same words about our own domain, answered to MAIL FROM, say nothing about the reader.
  {
    kind: "Exim: our sender domain does not exist (after MAIL FROM) stays soft",
    message: plain({
      from: "Mail Delivery System <Mailer-Daemon@mx.example.net>",
      subject: "Mail delivery failed: returning message to sender",
      body: "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  reader@example.org\n    host mx.example.org [192.0.2.25]\n    SMTP error from remote mail server after MAIL FROM:<bounces@news.example.com> SIZE=2048:\n    553 5.1.0 news.example.com does not exist\n\n------ This is a copy of the message, including all the headers. ------",
    }),
    type: "soft",
  },
  // iCloud's word for an address that is no longer in use.
  {
    kind: "iCloud: inactive email address",
    message: dsn({
      human: "Your message could not be delivered to reader@icloud.example.",
      recipient: "reader@icloud.example",
      status: "5.1.1",
      diagnostic:
        "smtp; 550 5.1.1 <reader@icloud.example>: inactive email address (in reply to RCPT TO command)",
    }),
    type: "hard",
  },
  // Trend Micro InterScan Messaging Security Suite's own notice.
  {
    kind: "InterScan: please check if address is correct",
    message: plain({
      from: '"InterScan MSS" <postmaster@gw.example.org>',
      subject: "Mail could not be delivered",
      body: "The following message could not be delivered to <reader@example.org>.\nPlease check if address is correct.\n\nSent <<< RCPT TO:<reader@example.org>\nReceived >>> 550 5.1.1 Recipient address rejected",
    }),
    type: "hard",
  },
  {
    kind: "InterScan: the notice alone, with no SMTP answer quoted",
    message: plain({
      from: '"InterScan MSS" <postmaster@gw.example.org>',
      subject: "Mail could not be delivered",
      body: "Unable to deliver the message to <reader@example.org>. Please check if address is correct.",
    }),
    type: "hard",
  },
  // Local delivery through procmail failing to write the mailbox: the mailbox exists.
  {
    kind: "procmail: Couldn't create the mailbox file (sendmail)",
    message: dsn({
      human:
        "The original message was received from news.example.com\n\n   ----- The following addresses had permanent fatal errors -----\n<reader@example.org>\n    (reason: Can't create output)\n    (expanded from: <reader@example.org>)\n\n   ----- Transcript of session follows -----\nprocmail: Couldn't create \"/var/mail/reader\"\n550 5.0.0 <reader@example.org>... Can't create output",
      status: "5.0.0",
      diagnostic: "X-Unix; 73",
    }),
    type: "soft",
  },
  {
    kind: "procmail: Couldn't create, beside a local 'User unknown'",
    message: dsn({
      human:
        '   ----- The following addresses had permanent fatal errors -----\n<reader@example.org>\n    (reason: 550 5.1.1 User unknown)\n\n   ----- Transcript of session follows -----\nprocmail: Couldn\'t create "/var/spool/mail/reader"\n550 5.1.1 <reader@example.org>... User unknown',
      status: "5.1.1",
      diagnostic: "X-Unix; 67",
    }),
    type: "soft",
  },
  {
    kind: "procmail: Couldn't create (Postfix command output)",
    message: dsn({
      human:
        'This is the mail system at host mx.example.org.\n\n<reader@example.org>: Command died with status 73: "/usr/bin/procmail". Command output: procmail: Couldn\'t create "/var/mail/reader"',
      status: "5.3.0",
      diagnostic: 'x-unix; procmail: Couldn\'t create "/var/mail/reader"',
    }),
    type: "soft",
  },
  // ARF reports whose Feedback-Type names an opt-out (the ARF drafts' opt-out and opt-out-list).
  { kind: "ARF: Feedback-Type opt-out", message: arf("opt-out"), type: "complaint", feedbackType: "opt-out" },
  {
    kind: "ARF: Feedback-Type opt-out-list",
    message: arf("opt-out-list"),
    type: "complaint",
    feedbackType: "opt-out",
  },
  {
    kind: "ARF fields written into a plain-text notice, Feedback-Type opt-out",
    message: plain({
      from: "fbl@isp.example.net",
      subject: "Opt-out request",
      body: "A reader asked to stop receiving this list.\n\nFeedback-Type: opt-out\nUser-Agent: ExampleFBL/1.0\nVersion: 1\nOriginal-Rcpt-To: <reader@example.org>",
    }),
    type: "complaint",
    feedbackType: "opt-out",
  },
];

describe("kinds of report, in their servers' words", () => {
  for (const c of cases) {
    it(`${c.kind}: ${c.type}${c.feedbackType ? ` (${c.feedbackType})` : ""}`, async () => {
      const bounce = await parseBounce(c.message);
      expect(bounce.type).toBe(c.type);
      expect(bounce.recipients.length).toBeGreaterThan(0);
      if (c.feedbackType) expect(bounce.feedbackType).toBe(c.feedbackType);
    });
  }
});

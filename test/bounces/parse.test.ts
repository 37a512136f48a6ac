import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBounce } from "../../src/bounces/parse.js";
import { bounceOutput } from "../../src/cli/commands/bounce.js";

/** A multipart/report with the given report type, human text, report part and returned headers. */
function report(opts: {
  reportType: string;
  human: string;
  partType: string;
  part: string;
  original?: string;
}): string {
  const b = "BOUNDARY-1";
  return [
    "From: MAILER-DAEMON@mx.example.net",
    "To: bounces+abc@news.example.com",
    "Subject: Delivery Status Notification",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=${opts.reportType}; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    opts.human,
    "",
    `--${b}`,
    `Content-Type: ${opts.partType}`,
    "",
    opts.part,
    "",
    `--${b}`,
    "Content-Type: text/rfc822-headers",
    "",
    opts.original ??
      "From: news@news.example.com\nTo: reader@example.org\nMessage-ID: <d-123@news.example.com>\nSubject: Vol 2.6",
    "",
    `--${b}--`,
    "",
  ].join("\n");
}

const dsn = (fields: string, human = "Your message could not be delivered.") =>
  report({
    reportType: "delivery-status",
    human,
    partType: "message/delivery-status",
    part: `Reporting-MTA: dns; mx.example.net\n\n${fields}`,
  });

describe("parseBounce", () => {
  it("reads a DSN: a 5.1.1 user unknown is hard, with the original Message-ID", async () => {
    const bounce = await parseBounce(
      dsn(
        "Final-Recipient: rfc822; reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <reader@example.org>: User unknown",
      ),
    );
    expect(bounce).toMatchObject({
      type: "hard",
      originalMessageId: "<d-123@news.example.com>",
      recipients: [{ address: "reader@example.org", status: "5.1.1", action: "failed", type: "hard" }],
    });
  });

  it("a report whose own words say the mailbox is full is soft, even beside 550 5.1.1", async () => {
    const bounce = await parseBounce(
      report({
        reportType: "delivery-status",
        human: "Your message to <reader> was automatically rejected:\nNot enough disk space",
        partType: "message/delivery-status",
        part: "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <reader@example.org>... User Unknown",
      }),
    );
    expect(bounce.recipients[0]).toMatchObject({ type: "soft", reason: "mailbox_full" });
  });

  it("lists every recipient of a DSN, each with its own class; the type is the most severe", async () => {
    const bounce = await parseBounce(
      dsn(
        [
          "Final-Recipient: rfc822; full@example.org\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full",
          "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 No such user",
        ].join("\n\n"),
      ),
    );
    expect(bounce.type).toBe("hard");
    expect(bounce.recipients.map((r) => [r.address, r.type])).toEqual([
      ["full@example.org", "soft"],
      ["gone@example.org", "hard"],
    ]);
  });

  it("Action: delayed is none, but the recipient is still listed", async () => {
    const bounce = await parseBounce(
      dsn(
        "Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 421 try later",
      ),
    );
    expect(bounce.type).toBe("none");
    expect(bounce.recipients).toMatchObject([
      { address: "slow@example.org", action: "delayed", type: "none" },
    ]);
  });

  it("copes with CRLF line endings", async () => {
    const raw = dsn(
      "Final-Recipient: rfc822; reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown",
    ).replace(/\n/g, "\r\n");
    expect((await parseBounce(Buffer.from(raw))).type).toBe("hard");
  });

  it("an ARF abuse report is a complaint naming Original-Rcpt-To", async () => {
    const bounce = await parseBounce(
      report({
        reportType: "feedback-report",
        human: "This is an abuse report.",
        partType: "message/feedback-report",
        part: "Feedback-Type: abuse\nUser-Agent: FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: <reader@example.org>",
      }),
    );
    expect(bounce).toMatchObject({
      type: "complaint",
      feedbackType: "abuse",
      originalMessageId: "<d-123@news.example.com>",
      recipients: [{ address: "reader@example.org", type: "complaint" }],
    });
  });

  it("an auth-failure ARF (RFC 6591) is a complaint with feedbackType auth-failure", async () => {
    const bounce = await parseBounce(
      report({
        reportType: "feedback-report",
        human: "This is an authentication failure report.",
        partType: "message/feedback-report",
        part: "Feedback-Type: auth-failure\nVersion: 1\nAuth-Failure: dmarc\nReported-Domain: news.example.com",
      }),
    );
    expect(bounce.type).toBe("complaint");
    expect(bounce.feedbackType).toBe("auth-failure");
    expect(bounce.recipients.map((r) => r.address)).toEqual(["reader@example.org"]);
  });

  it("a vacation auto-reply is none and names its sender", async () => {
    const raw = [
      "From: Reader <reader@example.org>",
      "To: news@news.example.com",
      "Subject: Out of office",
      "Auto-Submitted: auto-replied",
      "",
      "I am away until Monday.",
    ].join("\n");
    expect(await parseBounce(raw)).toMatchObject({
      type: "none",
      recipients: [{ address: "reader@example.org" }],
    });
  });

  it("reads a plain-text bounce by its shape", async () => {
    const raw = [
      "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
      "To: bounces+abc@news.example.com",
      "Subject: Undelivered Mail Returned to Sender",
      "",
      "I'm sorry to have to inform you that your message could not be delivered.",
      "",
      "<reader@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1",
      "    <reader@example.org>: Recipient address rejected: User unknown (in reply to",
      "    RCPT TO command)",
      "",
      "<full@example.org>: host mx.example.org[192.0.2.1] said: 552 5.2.2 Over quota",
      "    (in reply to RCPT TO command)",
    ].join("\n");
    const bounce = await parseBounce(raw);
    expect(bounce.recipients.map((r) => [r.address, r.type])).toEqual([
      ["reader@example.org", "hard"],
      ["full@example.org", "soft"],
    ]);
  });

  it("a sendmail transcript's earlier host's 421 does not make a later host's unknown user temporary", async () => {
    const raw = [
      "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
      "To: bounces+abc@news.example.com",
      "Subject: Returned mail: User unknown",
      "",
      "   ----- Transcript of session follows -----",
      "While talking to smtp.example.com:",
      ">>> QUIT",
      "<<< 421 smtp.example.com Sorry, unable to contact destination SMTP daemon.",
      "421 smtp.example.com (smtp)... Deferred: Connection reset by peer during greeting wait",
      "While talking to mx.example.org:",
      ">>> RCPT To:<reader@example.org>",
      "<<< 550 Requested User Mailbox not found. No such user here.",
      "550 <reader@example.org>... User unknown",
    ].join("\n");
    const bounce = await parseBounce(raw);
    expect(bounce.recipients.map((r) => [r.address, r.type])).toEqual([["reader@example.org", "hard"]]);
  });

  it("garbage bytes give none without throwing", async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    await expect(parseBounce(garbage)).resolves.toEqual({ type: "none", recipients: [] });
    await expect(parseBounce("")).resolves.toEqual({ type: "none", recipients: [] });
  });

  it("copes with a NUL in a header and invalid UTF-8 in the body", async () => {
    const raw = Buffer.concat([
      Buffer.from("From: MAILER-DAEMON@mx.example.net\nSubject: Undeliver\0ed mail\n\n"),
      Buffer.from([0xa4, 0xa2, 0xff, 0x0a]),
      Buffer.from("<reader@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n"),
    ]);
    const bounce = await parseBounce(raw);
    expect(bounce.type).toBe("hard");
    expect(bounce.recipients[0]?.address).toBe("reader@example.org");
  });
});

describe("digest bounce FILE (the function the command calls)", () => {
  it("prints type, feedbackType and recipients only", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "digest-bounce-"));
    const file = path.join(dir, "b.eml");
    await writeFile(
      file,
      dsn(
        "Final-Recipient: rfc822; reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown",
      ),
    );
    const output = await bounceOutput(file);
    expect(Object.keys(output)).toEqual(["type", "recipients"]);
    expect(output.recipients[0]).toMatchObject({
      address: "reader@example.org",
      status: "5.1.1",
      action: "failed",
    });
  });

  it("a missing file is an error, not an empty answer", async () => {
    await expect(bounceOutput("/nonexistent/bounce.eml")).rejects.toThrow(/cannot read/);
  });
});

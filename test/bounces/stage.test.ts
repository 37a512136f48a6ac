import { describe, expect, it } from "vitest";
import { classifyReason, lastCommand } from "../../src/bounces/classify.js";
import { parseBounce } from "../../src/bounces/parse.js";

/** The SMTP stage an answer was given at, read the way mail servers report it. */
describe("the SMTP stage of a failure", () => {
  it("in a pipelined transcript, answers match commands in order: the 550 after >>> DATA may be RCPT's", () => {
    const shown =
      ">>> RCPT To:<a@example.net>\n>>> DATA\n<<< 550 5.1.1 Invalid recipient\n<<< 503 5.5.0 need RCPT before DATA";
    expect(lastCommand(shown)).toBe("RCPT");
    // sendmail shows only the last command of the group: two answers to one shown command.
    const hidden = ">>> DATA\n<<< 550 5.5.0 Invalid recipient\n<<< 554 5.5.1 Error: no valid recipients";
    expect(lastCommand(hidden)).toBe("UNSHOWN");
    expect(lastCommand(">>> DATA\n<<< 554 delivery error: dd This user doesn't have an account")).toBe(
      "DATA",
    );
  });

  it("a continuation line (550-) is not an answer of its own", () => {
    expect(
      lastCommand(
        ">>> RCPT To:<a@x>\n<<< 550-5.1.1 The email account\n<<< 550 5.1.1 does not exist\n>>> DATA",
      ),
    ).toBe("RCPT");
  });

  it("an unknown-user answer to a pipelined RCPT is hard, the same words answering DATA are not", () => {
    const words = "550 5.5.0 Adresse destinataire invalide. Invalid recipient.";
    expect(classifyReason({ status: "5.5.0", diagnostic: words, command: "UNSHOWN" }).type).toBe("hard");
    expect(classifyReason({ status: "5.5.0", diagnostic: words, command: "DATA" }).type).toBe("soft");
  });
});

function postfixDsn(diagnostic: string, said: string, notice = "") {
  return [
    "From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)",
    "To: news@example.org",
    "Subject: Undelivered Mail Returned to Sender",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    notice,
    "<reader@carrier.example>: host mx.carrier.example[192.0.2.1] said:",
    `    ${said}`,
    "",
    "--b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.jp",
    "",
    "Final-Recipient: rfc822; reader@carrier.example",
    "Action: failed",
    "Status: 5.0.0",
    `Diagnostic-Code: smtp; ${diagnostic}`,
    "",
    "--b--",
    "",
  ].join("\r\n");
}

describe("reading a report's human text beside its delivery-status fields", () => {
  it("an unknown-user answer the text says came after DATA is not hard, though the Diagnostic-Code omits it", async () => {
    const dsn = postfixDsn(
      "550 Unknown user reader@carrier.example",
      "550 Unknown user reader@carrier.example (in reply to end of DATA command)",
    );
    expect((await parseBounce(dsn)).type).toBe("soft");
    const atRcpt = postfixDsn(
      "550 Unknown user reader@carrier.example",
      "550 Unknown user reader@carrier.example (in reply to RCPT TO command)",
    );
    expect((await parseBounce(atRcpt)).type).toBe("hard");
  });

  it("'user unknown' beside the report's own words that the account is disabled is soft", async () => {
    const dsn = postfixDsn(
      "550 user unknown",
      "550 user unknown (in reply to RCPT TO command)",
      "The user(s) account is disabled.",
    );
    expect((await parseBounce(dsn)).recipients[0]).toMatchObject({
      type: "soft",
      reason: "mailbox_disabled",
    });
  });

  it("a bounce from post_master@ with an SMTP answer is read as a bounce", async () => {
    const raw = [
      "From: post_master@carrier.example",
      "To: news@example.org",
      "Subject: Re: Vol 2.6",
      "",
      "Error: Invalid user address",
      "",
      "Error message below:",
      "550 - Requested action not taken: no such user here",
      "",
      "Message details:",
      "  MAIL FROM: news@example.org",
      "  RCPT TO: reader@carrier.example",
      "",
    ].join("\r\n");
    expect(await parseBounce(raw)).toMatchObject({
      type: "hard",
      recipients: [{ address: "reader@carrier.example" }],
    });
  });
});

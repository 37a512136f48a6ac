import { describe, expect, it } from "vitest";
import { classifyReason, classifySmtpError } from "../../src/bounces/classify.js";

describe("classifyReason", () => {
  it("a full mailbox (5.2.2) is soft even though it is a 5xx", () => {
    expect(
      classifyReason({ status: "5.2.2", diagnostic: "550 5.2.2 <a@example.org>... Mailbox Full" }),
    ).toEqual({
      type: "soft",
      reason: "mailbox_full",
    });
  });

  it("a full mailbox stays soft when the code says 5.1.1", () => {
    expect(classifyReason({ status: "5.1.1", diagnostic: "550 5.1.1 mailbox is full" }).type).toBe("soft");
  });

  it("550 5.1.1 user unknown is hard", () => {
    expect(
      classifyReason({ status: "5.1.1", diagnostic: "550 5.1.1 <a@example.org>: User unknown" }),
    ).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
  });

  it("550 5.7.1 with 'user unknown' text said to RCPT is hard", () => {
    const r = classifyReason({
      diagnostic: "550 5.7.1 <a@example.org>: User unknown (in reply to RCPT TO command)",
    });
    expect(r.type).toBe("hard");
  });

  it("'user unknown' said after DATA is soft (a content filter's words)", () => {
    const r = classifyReason({
      status: "5.0.0",
      diagnostic: "550 Unknown user a@example.org (in reply to end of DATA command)",
    });
    expect(r).toEqual({ type: "soft", reason: "filtered" });
  });

  it("a DMARC rejection 5.7.26 is soft", () => {
    const r = classifyReason({
      diagnostic: "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy",
    });
    expect(r.type).toBe("soft");
  });

  it("a blocklist rejection is soft", () => {
    expect(
      classifyReason({ diagnostic: "554 5.7.1 Service unavailable; client host blocked using Spamhaus" })
        .type,
    ).toBe("soft");
  });

  it("a missing domain is hard", () => {
    const r = classifyReason({
      diagnostic:
        "Host or domain name not found. Name service error for name=nx.example type=A: Host not found",
    });
    expect(r).toEqual({ type: "hard", reason: "host_unknown" });
  });

  it("our own sender domain not found is soft", () => {
    expect(
      classifyReason({ diagnostic: "553 5.1.8 <us@example.com>: Sender address rejected: Domain not found" })
        .type,
    ).toBe("soft");
  });

  it("a temporary failure naming an unknown user is still soft", () => {
    expect(
      classifyReason({ status: "4.1.1", diagnostic: "450 4.1.1 <a@example.org>: User unknown" }).type,
    ).toBe("soft");
  });

  it("reads other languages", () => {
    expect(classifyReason({ status: "5.1.1", diagnostic: "550 5.1.1 Benutzer unbekannt" }).type).toBe("hard");
    expect(classifyReason({ diagnostic: "550 utilisateur inconnu (in reply to RCPT TO command)" }).type).toBe(
      "hard",
    );
  });

  it("a permanent 5.4.4 (no MX and no A record for the domain) is hard", () => {
    expect(
      classifyReason({ status: "5.4.4", diagnostic: "554 5.4.4 Unable to route to example.invalid" }),
    ).toEqual({ type: "hard", reason: "host_unknown" });
  });

  it("a 5.4.4 from a lookup that failed (a malformed name server reply) stays soft", () => {
    const r = classifyReason({
      status: "5.4.4",
      diagnostic:
        "Name service error for name=example.org type=MX: Malformed or unexpected name server reply",
    });
    expect(r.type).toBe("soft");
  });

  it("NXDOMAIN with a permanent code is hard; with a 4.x.x code or 'try again' it stays soft", () => {
    const nx =
      "DNS type 'mx' lookup of nx.example responded with code NXDOMAIN Domain name not found: nx.example";
    expect(classifyReason({ status: "5.1.2", diagnostic: `550 ${nx}` }).type).toBe("hard");
    expect(classifyReason({ status: "4.0.0", diagnostic: `DNS Error: ${nx}` }).type).toBe("soft");
    expect(classifyReason({ diagnostic: "451 4.4.4 Host not found" }).type).toBe("soft");
    expect(classifyReason({ status: "5.4.4", diagnostic: "550 Host not found, try again" }).type).toBe(
      "soft",
    );
  });

  it("Microsoft 365's '550 5.4.1 Recipient address rejected: Access denied' (not in the directory) is hard", () => {
    const r = classifyReason({
      diagnostic:
        "550 5.4.1 <a@example.org>: Recipient address rejected: Access denied [BL2NAM02FT061.eop-nam02.prod.protection.outlook.com]",
    });
    expect(r).toEqual({ type: "hard", reason: "user_unknown" });
  });

  it("a recipient access table's '554 5.7.1 Recipient address rejected: Access denied' to RCPT is hard", () => {
    const r = classifyReason({
      diagnostic:
        "SMTP error from remote mail server after RCPT TO:<a@example.org>: 554 5.7.1 <a@example.org>: Recipient address rejected: Access denied",
    });
    expect(r.type).toBe("hard");
  });

  it("'Access denied' that names no recipient, or is temporary, stays soft", () => {
    expect(classifyReason({ diagnostic: "550 5.7.1 <a@example.org>... Access denied" }).type).toBe("soft");
    expect(
      classifyReason({ diagnostic: "450 4.7.1 <a@example.org>: Recipient address rejected: Access denied" })
        .type,
    ).toBe("soft");
  });

  it("'Invalid final delivery userid' with a 5xx or with no code at all (a final report) is hard; with a 4xx soft", () => {
    expect(classifyReason({ diagnostic: "550 Invalid final delivery userid: a@example.org" })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    expect(classifyReason({ diagnostic: "Invalid final delivery userid: a@example.org" }).type).toBe("hard");
    expect(classifyReason({ diagnostic: "450 Invalid final delivery userid: a@example.org" }).type).toBe(
      "soft",
    );
  });

  it("'Invalid userid' said after DATA stays soft (a content filter's words)", () => {
    const r = classifyReason({ diagnostic: "550 Invalid userid (in reply to end of DATA command)" });
    expect(r).toEqual({ type: "soft", reason: "filtered" });
  });

  it("'no valid recipients' is hard in answer to RCPT, soft as Postfix's answer to DATA", () => {
    expect(classifyReason({ diagnostic: "550 No valid recipients (in reply to RCPT TO command)" }).type).toBe(
      "hard",
    );
    expect(classifyReason({ diagnostic: "554 5.5.1 Error: no valid recipients" }).type).toBe("soft");
    expect(
      classifyReason({ diagnostic: "554 5.5.1 Error: no valid recipients (in reply to DATA command)" }).type,
    ).toBe("soft");
  });

  it("'no valid recipients' in a notice that quotes no SMTP answer is the gateway's own verdict: hard", () => {
    expect(classifyReason({ diagnostic: "Error: No valid recipients for this MM" }).type).toBe("hard");
  });

  it("cPanel's 'account or domain may not exist' with a permanent failure is hard, with 4.x.x soft", () => {
    const text =
      "The mail server could not deliver mail to a@example.net.  The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.";
    expect(classifyReason({ diagnostic: text })).toEqual({ type: "hard", reason: "host_unknown" });
    expect(classifyReason({ status: "4.4.1", diagnostic: text }).type).toBe("soft");
  });

  it("other servers' unknown-user words count when RCPT confirms them, and not after DATA", () => {
    const words = "550 sorry, no mailbox available for this user";
    expect(classifyReason({ diagnostic: words, command: "RCPT TO" }).type).toBe("hard");
    expect(classifyReason({ diagnostic: words, command: "DATA" }).type).toBe("soft");
    expect(
      classifyReason({
        diagnostic: "553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)",
        command: "RCPT TO",
      }).type,
    ).toBe("hard");
  });

  it("in doubt it is soft", () => {
    expect(classifyReason({ diagnostic: "554 Transaction failed" }).type).toBe("soft");
    // RFC 5321's 550 text is hard on its own (test/bounces/words.test.ts), but not beside a policy code.
    expect(
      classifyReason({ diagnostic: "550 5.7.1 Requested action not taken: mailbox unavailable" }).type,
    ).toBe("soft");
    expect(classifyReason({ diagnostic: "" }).type).toBe("soft");
  });
});

describe("classifySmtpError", () => {
  it("4xx is never permanent", () => {
    const r = classifySmtpError({ responseCode: 451, response: "451 4.7.1 Greylisted, try again later" });
    expect(r).toMatchObject({ type: "soft", permanent: false, policy: false });
  });

  it("a network error (no response code) is soft and not permanent", () => {
    expect(classifySmtpError({})).toMatchObject({ type: "soft", permanent: false, reason: "network" });
  });

  it("a DMARC rejection 5.7.26 is soft policy", () => {
    const r = classifySmtpError({
      responseCode: 550,
      response: "550 5.7.26 This message does not pass DMARC",
    });
    expect(r).toMatchObject({ type: "soft", permanent: true, policy: true });
  });

  it("5.7.1 naming an unknown user in answer to RCPT is hard, not policy", () => {
    const r = classifySmtpError({
      responseCode: 550,
      response: "550 5.7.1 Recipient address rejected: user unknown",
      command: "RCPT TO",
    });
    expect(r).toMatchObject({ type: "hard", permanent: true, policy: false });
  });

  it("550 5.1.1 is hard and permanent", () => {
    expect(classifySmtpError({ responseCode: 550, response: "550 5.1.1 No such user" })).toMatchObject({
      type: "hard",
      permanent: true,
    });
  });
});

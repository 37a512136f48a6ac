import { describe, expect, it } from "vitest";
import { classifyReason, lastCommand } from "../../src/bounces/classify.js";
import { parseBounce } from "../../src/bounces/parse.js";

/** The words servers use for a mailbox that does not exist, and the stage they say them at. */
describe("words for a missing mailbox", () => {
  it("qmail names the stage in its own words: 'does not like recipient' is RCPT, 'failed after I sent the message' is DATA", () => {
    const atRcpt =
      "192.0.2.153 does not like recipient.\nRemote host said: 550 5.2.1 <a@example.jp>... User Unknown\nGiving up on 192.0.2.153.";
    expect(lastCommand(atRcpt)).toBe("RCPT");
    expect(classifyReason({ status: "5.2.1", diagnostic: atRcpt })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    const afterData =
      "192.0.2.153 failed after I sent the message.\nRemote host said: 550 5.2.1 <a@example.jp>... User Unknown\nGiving up on 192.0.2.153.";
    expect(lastCommand(afterData)).toBe("DATA");
    expect(classifyReason({ status: "5.2.1", diagnostic: afterData }).type).toBe("soft");
    expect(lastCommand("Connected to 192.0.2.225 but sender was rejected.")).toBe("MAIL");
  });

  it("a local delivery agent's 'unknown user: <name>' is hard whatever code the relay added", () => {
    const text = "mail.local: unknown user: kijitora\n554 <kijitora@example.net>... Service unavailable";
    expect(classifyReason({ status: "5.5.0", diagnostic: text })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    expect(classifyReason({ diagnostic: 'X-Postfix; unknown user: "kijitora"' }).type).toBe("hard");
  });

  it("Yahoo's 'This user doesn't have a … account' is hard although Yahoo says it after DATA", () => {
    const diagnostic =
      "554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com";
    expect(classifyReason({ status: "5.0.0", diagnostic, command: "DATA" }).type).toBe("hard");
    // Plain "user unknown" after DATA is still a content filter's possible words.
    expect(classifyReason({ status: "5.0.0", diagnostic: "550 User unknown", command: "DATA" }).type).toBe(
      "soft",
    );
  });

  it("RFC 5321's '550 Requested action not taken: mailbox unavailable' is hard when nothing else is said", () => {
    const words = "550 Requested action not taken: mailbox unavailable (-0000000022:2222:-0000000022)";
    expect(classifyReason({ status: "5.5.0", diagnostic: words })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    // The same words beside a policy code, a blocklist, a temporary code or after DATA are not.
    expect(classifyReason({ status: "5.7.1", diagnostic: words }).type).toBe("soft");
    expect(
      classifyReason({ diagnostic: "550 mailbox unavailable: client host 192.0.2.1 blocked using zen" }).type,
    ).toBe("soft");
    expect(classifyReason({ diagnostic: "450 Requested action not taken: mailbox unavailable" }).type).toBe(
      "soft",
    );
    expect(classifyReason({ status: "5.0.0", diagnostic: words, command: "DATA" }).type).toBe("soft");
  });

  it("a bare 'Recipient address rejected.' to RCPT is hard; with a reason after it, the reason decides", () => {
    const bare = "550 <a@example.jp>: Recipient address rejected. (in reply to RCPT TO command)";
    expect(classifyReason({ status: "5.0.0", diagnostic: bare }).type).toBe("hard");
    expect(
      classifyReason({
        diagnostic:
          "550 <a@example.jp>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
      }).type,
    ).toBe("soft");
    expect(
      classifyReason({
        diagnostic:
          "550 5.7.1 <a@example.jp>: Recipient address rejected: User a@example.jp temporary locked (in reply to RCPT TO command)",
      }).type,
    ).toBe("soft");
  });

  it("AOL's and Comcast's bare '550 5.1.0 Address rejected' is hard; 'Sender address rejected' is about us", () => {
    expect(classifyReason({ diagnostic: "550 #5.1.0 Address rejected reader@example.com" }).type).toBe(
      "hard",
    );
    // A reason after the words decides instead.
    expect(classifyReason({ diagnostic: "550 5.1.0 Address rejected: greylisted, try later" }).type).toBe(
      "soft",
    );
    expect(classifyReason({ diagnostic: "550 #5.1.0 Address rejected." })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    expect(
      classifyReason({
        diagnostic: "550 5.1.0 <news@example.org>: Sender address rejected.",
        command: "RCPT TO",
      }).type,
    ).toBe("soft");
  });

  it("sendmail's 'unknown or illegal alias' and 'not a valid recipient' answering RCPT are hard", () => {
    expect(classifyReason({ diagnostic: "550 5.1.1 <a@example.org>... unknown or illegal alias" }).type).toBe(
      "hard",
    );
    expect(
      classifyReason({ diagnostic: "550 a@example.org is not a valid recipient", command: "RCPT TO" }).type,
    ).toBe("hard");
  });

  it("a report that gave up (Action: failed) on '450 4.1.1 User unknown' at RCPT is hard; a delay notice with it is not", async () => {
    const dsn = (action: string) =>
      [
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)",
        "To: news@example.org",
        "Subject: Undelivered Mail Returned to Sender",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "<reader@example.net>: host mx.example.net[192.0.2.4] said: 450 4.1.1",
        "    <reader@example.net>: Recipient address rejected: User unknown in virtual",
        "    alias table (in reply to RCPT TO command)",
        "",
        "--b",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.org",
        "",
        "Final-Recipient: rfc822; reader@example.net",
        `Action: ${action}`,
        "Status: 4.1.1",
        "Diagnostic-Code: smtp; 450 4.1.1 <reader@example.net>: Recipient address rejected: User unknown in virtual alias table",
        "",
        "--b--",
        "",
      ].join("\n");
    expect((await parseBounce(dsn("failed"))).recipients[0]).toMatchObject({
      type: "hard",
      reason: "user_unknown",
    });
    expect((await parseBounce(dsn("delayed"))).type).toBe("none");
    // Without a report saying the server gave up, a 4xx stays temporary.
    expect(
      classifyReason({ status: "4.1.1", diagnostic: "450 4.1.1 <a@example.org>: User unknown" }).type,
    ).toBe("soft");
  });

  const unknownUser = [
    ["German", "550 Ungültige Empfängeradresse"],
    ["German", "550 Postfach nicht gefunden"],
    ["French", "550 Destinataire inexistant"],
    ["French", "550 Boîte aux lettres inexistante"],
    ["Spanish", "550 Buzón no encontrado"],
    ["Spanish", "550 Usuario inexistente"],
    ["Italian", "550 Utente inesistente"],
    ["Italian", "550 Casella non trovata"],
    ["Portuguese", "550 Destinatário inexistente"],
    ["Portuguese", "550 Conta inválida"],
    ["Dutch", "550 Onbekende ontvanger"],
    ["Russian", "550 Нет такого пользователя"],
    ["Turkish", "550 Kullanıcı bulunamadı"],
    ["Japanese", "550 宛先のユーザは存在しません"],
    ["Japanese", "550 ユーザ不明"],
    ["Chinese", "550 用户不存在"],
    ["Chinese", "550 收件人地址不存在"],
    ["Korean", "550 존재하지 않는 사용자입니다"],
  ] as const;

  it.each(unknownUser)("%s: '%s' answering RCPT is hard, and after DATA soft", (_language, words) => {
    expect(classifyReason({ diagnostic: words, command: "RCPT TO" })).toEqual({
      type: "hard",
      reason: "user_unknown",
    });
    expect(classifyReason({ diagnostic: words, command: "DATA" }).type).toBe("soft");
  });

  const unknownDomain = [
    ["French", "550 Domaine inconnu"],
    ["Spanish", "550 Dominio no existe"],
    ["Portuguese", "550 Domínio não existe"],
    ["Russian", "550 Домен не существует"],
    ["Chinese", "550 域名不存在"],
  ] as const;

  it.each(unknownDomain)("%s: '%s' answering RCPT is hard", (_language, words) => {
    expect(classifyReason({ diagnostic: words, command: "RCPT TO" }).type).toBe("hard");
    expect(classifyReason({ diagnostic: words }).type).toBe("soft");
  });
});

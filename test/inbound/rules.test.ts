import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { readHeaderBlock } from "../../src/bounces/auto-reply.js";
import { readCommand } from "../../src/inbound/command.js";
import { replyForbidden } from "../../src/inbound/loop-safety.js";
import { knownMailboxes, routeRecipient } from "../../src/inbound/recipient.js";
import type { MailIdentity } from "../../src/sending/identity.js";
import { messageId, verifiedMessageRef } from "../../src/sending/message-id.js";

const domain = "digest.example.org";
const mailboxes = knownMailboxes("news@digest.example.org", domain);

describe("inbound recipients", () => {
  it("accept the command addresses, VERP bounces, per-reader unsubscribe and our own mailboxes", () => {
    expect(routeRecipient("subscribe@digest.example.org", domain, mailboxes)).toEqual({ kind: "subscribe" });
    expect(routeRecipient("Unsubscribe@DIGEST.example.org", domain, mailboxes)).toEqual({
      kind: "unsubscribe",
    });
    expect(routeRecipient("bounces+abcdefghijk234@digest.example.org", domain, mailboxes)).toEqual({
      kind: "bounce",
      token: "abcdefghijk234",
    });
    expect(routeRecipient("unsubscribe+abcdefghijk234@digest.example.org", domain, mailboxes)).toEqual({
      kind: "unsubscribe",
      token: "abcdefghijk234",
    });
    expect(routeRecipient("news@digest.example.org", domain, mailboxes)).toEqual({
      kind: "mailbox",
      name: "news",
    });
    expect(routeRecipient("postmaster@digest.example.org", domain, mailboxes)?.kind).toBe("mailbox");
  });

  it("refuse unknown local parts and every other domain, so the server relays nothing", () => {
    expect(routeRecipient("someone@digest.example.org", domain, mailboxes)).toBeUndefined();
    expect(routeRecipient("subscribe@gmail.com", domain, mailboxes)).toBeUndefined();
    expect(routeRecipient("subscribe@digest.example.org.evil.com", domain, mailboxes)).toBeUndefined();
    expect(routeRecipient("bounces+BAD!@digest.example.org", domain, mailboxes)).toBeUndefined();
    expect(routeRecipient("no-at-sign", domain, mailboxes)).toBeUndefined();
  });
});

describe("mailed commands", () => {
  it("are read from the subject or the first unquoted line only", () => {
    expect(readCommand("subscribe", "")).toBe("subscribe");
    expect(readCommand("Re: Subscribe", "")).toBe("subscribe");
    expect(readCommand("", "\n  subscribe\nthanks")).toBe("subscribe");
    expect(readCommand("hello", "> unsubscribe\nsubscribe")).toBe("subscribe");
  });

  it("ignore a command buried in a quoted reply or later in the text", () => {
    expect(readCommand("Re: your newsletter", "Great issue!\n> unsubscribe\n")).toBeUndefined();
    expect(readCommand("hi", "Please keep sending.\nunsubscribe")).toBeUndefined();
    expect(readCommand("please subscribe me to everything", "")).toBeUndefined();
  });
});

describe("loop safety", () => {
  const facts = (
    headers: Record<string, string>,
    envelopeFrom = "reader@example.com",
    fromAddress = "reader@example.com",
  ) => ({
    envelopeFrom,
    fromAddress,
    headers: new Map(Object.entries(headers).map(([name, value]) => [name, [value]])),
    subject: headers.subject ?? "",
  });

  it("allows a reply to a person", () => {
    expect(replyForbidden(facts({}), domain)).toBeUndefined();
    expect(replyForbidden(facts({ "auto-submitted": "no" }), domain)).toBeUndefined();
  });

  it("forbids replies to robots, lists, bounces and ourselves", () => {
    expect(replyForbidden(facts({ "auto-submitted": "auto-replied" }), domain)).toMatch(/Auto-Submitted/);
    expect(replyForbidden(facts({ precedence: "bulk" }), domain)).toMatch(/Precedence/);
    expect(replyForbidden(facts({ precedence: "junk" }), domain)).toMatch(/Precedence/);
    expect(replyForbidden(facts({ "list-id": "<x.example.com>" }), domain)).toMatch(/List-Id/);
    expect(replyForbidden(facts({}, ""), domain)).toMatch(/empty envelope sender/);
    expect(replyForbidden(facts({}, "news@digest.example.org", "news@digest.example.org"), domain)).toMatch(
      /own domain/,
    );
    expect(
      replyForbidden(facts({}, "MAILER-DAEMON@example.com", "mailer-daemon@example.com"), domain),
    ).toMatch(/daemon/);
  });
});

describe("loop safety reads the raw header block", () => {
  const raw = Buffer.from(
    [
      "From: Friend <friend@example.com>",
      "To: subscribe@digest.example.org",
      "Subject: subscribe",
      "List-Id: Friends",
      " <friends.lists.example.com>",
      "",
      "subscribe",
      "",
    ].join("\r\n"),
  );

  it("because mailparser files every List-* header under `list`, where a look for `list-id` finds nothing", async () => {
    const parsed = await simpleParser(raw);
    expect(parsed.headers.has("list-id")).toBe(false);
    expect(parsed.headers.has("list")).toBe(true);
    const headers = readHeaderBlock(raw);
    expect(headers.get("list-id")).toEqual(["Friends <friends.lists.example.com>"]);
    const facts = {
      envelopeFrom: "friend@example.com",
      fromAddress: "friend@example.com",
      subject: "subscribe",
    };
    expect(replyForbidden({ ...facts, headers }, domain)).toBe("List-Id present");
    expect(
      replyForbidden({ ...facts, headers: new Map([["precedence", ["first-class", "LIST"]]]) }, domain),
    ).toBe("Precedence: list");
  });

  it("and lets a person's mail through, even from a role address", () => {
    const person = (address: string, headers: Record<string, string> = {}) =>
      replyForbidden(
        {
          envelopeFrom: address,
          fromAddress: address,
          headers: new Map(Object.entries(headers).map(([name, value]) => [name, [value]])),
          subject: "subscribe",
        },
        domain,
      );
    expect(person("product-owner@example.com")).toBeUndefined();
    expect(person("pull-request@example.com")).toBeUndefined();
    expect(person("reader@example.com", { "auto-submitted": "No (a person wrote this)" })).toBeUndefined();
    expect(person("reader@example.com", { precedence: "first-class" })).toBeUndefined();
    expect(
      person("reader@example.com", { "content-type": "multipart/alternative; boundary=x" }),
    ).toBeUndefined();
    expect(person("friends-bounces+reader=example.com@lists.example.com")).toMatch(/list/);
    expect(person("noreply@example.com")).toMatch(/daemon/);
  });
});

describe("our Message-IDs", () => {
  const secret = "rules-secret-0123456789-0123456789-abcdef";
  const identity = { domain } as MailIdentity;
  const sendId = "0b7c2d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0e";

  it("lead a report back to its delivery only when they are ours and signed with our secret", () => {
    const id = messageId(identity, secret, sendId, 42);
    expect(id).toMatch(new RegExp(`^<${sendId}\\.42\\.[0-9a-f]{20}@digest\\.example\\.org>$`));
    expect(verifiedMessageRef(secret, domain, id)).toEqual({ sendId, deliveryId: 42 });
    expect(verifiedMessageRef(secret, domain, id.replace("digest.example.org", "other.org"))).toBeUndefined();
    expect(verifiedMessageRef(secret, domain, "<random@digest.example.org>")).toBeUndefined();
    expect(verifiedMessageRef(secret, domain, undefined)).toBeUndefined();
  });

  it("cannot be guessed for a neighbouring delivery from one's own copy", () => {
    const mine = messageId(identity, secret, sendId, 42);
    const neighbour = mine.replace(".42.", ".43.");
    expect(verifiedMessageRef(secret, domain, neighbour)).toBeUndefined();
    expect(verifiedMessageRef("another-secret-0123456789-0123456789", domain, mine)).toBeUndefined();
    // The unsigned shape of earlier versions proves nothing.
    expect(verifiedMessageRef(secret, domain, `<${sendId}.42@${domain}>`)).toBeUndefined();
  });
});

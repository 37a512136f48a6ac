import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIssue } from "../../src/issues/lint.js";
import { ed25519Selector } from "../../src/sending/dkim.js";
import { createMailer } from "../../src/sending/mailer.js";
import { messageId, readerLinks, returnPath } from "../../src/sending/reader-links.js";
import { buildTemplate, splice } from "../../src/sending/template.js";
import { composeTransactional } from "../../src/sending/transactional-mail.js";
import { dkimpyVerify, keyRecord, signatureFields, signatureTags } from "../helpers/dkimpy.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { exampleIssue, identity, newsletter, secret } from "./harness.js";

/**
 * Signed issues as a receiver sees them: spliced for real readers, signed by the mailer, carried
 * over SMTP, and checked by dkimpy (not our code) against the published key records.
 */
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed25519 = generateKeyPairSync("ed25519");
const records = {
  "digest._domainkey.example.org": keyRecord(rsa.publicKey),
  [`${ed25519Selector("digest")}._domainkey.example.org`]: keyRecord(ed25519.publicKey),
};
const readers = [
  "ada@readers.test",
  "o'brien.pat+news@readers.test",
  "aiko@xn--r8jz45g.jp",
  "first.last@sub.readers.test",
];
let smtp: SmtpCapture;

beforeAll(async () => {
  smtp = await startSmtpCapture();
});
afterAll(() => smtp?.close());

async function sendIssue(withEd25519: boolean) {
  const checked = await checkIssue(exampleIssue, newsletter);
  if (!checked.issue || !checked.rendition) throw new Error("the example issue does not render");
  const template = await buildTemplate({
    identity,
    subject: checked.issue.subject,
    rendition: checked.rendition,
  });
  const mailer = createMailer({
    smtpUrl: smtp.url,
    pool: 2,
    dkim: {
      domainName: "example.org",
      keySelector: "digest",
      privateKey: rsa.privateKey,
      ...(withEd25519
        ? { ed25519: { keySelector: ed25519Selector("digest"), privateKey: ed25519.privateKey } }
        : {}),
    },
  });
  const before = smtp.messages.length;
  await Promise.all(
    readers.map((email, i) => {
      const links = readerLinks(
        identity,
        secret,
        { subscriberId: `0b7c2d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0${i}`, email },
        checked.issue?.slug ?? "",
      );
      const message = splice(template, { ...links, messageId: messageId(identity, secret, "s", i) });
      // As the worker sends it (deliver.ts): the body is hashed from the template's runs.
      return mailer.sendRaw({ from: returnPath(identity, secret, i), to: [email] }, message.raw, {
        dataReady: message.dataReady,
        parts: message.parts,
      });
    }),
  );
  mailer.close();
  return (await smtp.waitFor(before + readers.length)).slice(before).map((m) => m.raw);
}

describe("an issue signed for each reader", () => {
  it("verifies with dkimpy, with List-Unsubscribe and List-Unsubscribe-Post in h=", async () => {
    const messages = await sendIssue(false);
    expect(await dkimpyVerify(messages, records)).toEqual(readers.map(() => [true]));
    for (const raw of messages) {
      const [field] = signatureFields(raw);
      const names = (signatureTags(field ?? "").get("h") ?? "").split(":");
      expect(names).toContain("list-unsubscribe");
      expect(names).toContain("list-unsubscribe-post");
      expect(signatureTags(field ?? "").get("a")).toBe("rsa-sha256");
    }
  });

  it("names From, Subject and List-Unsubscribe in h= once more than the message has them, so dkimpy refuses a second one added after signing", async () => {
    const [raw] = await sendIssue(false);
    const signed = raw as Buffer;
    const [field] = signatureFields(signed);
    const names = (signatureTags(field ?? "").get("h") ?? "").toLowerCase().split(":");
    const text = signed.toString("latin1");
    const head = text.slice(0, text.indexOf("\r\n\r\n") + 2);
    for (const name of ["from", "subject", "list-unsubscribe"]) {
      const present = head.split("\r\n").filter((line) => line.toLowerCase().startsWith(`${name}:`)).length;
      expect(present, name).toBe(1);
      expect(names.filter((n) => n === name).length, name).toBe(present + 1);
    }
    // A header added on the way: on top (where relays add theirs) or at the end of the header block.
    const added = (line: string) => [
      Buffer.concat([Buffer.from(`${line}\r\n`, "latin1"), signed]),
      Buffer.from(text.replace("\r\n\r\n", `\r\n${line}\r\n\r\n`), "latin1"),
    ];
    const forged = [
      ...added("From: Bank <security@bank.example>"),
      ...added("Subject: Your account is locked"),
      ...added("List-Unsubscribe: <https://evil.example/u>"),
    ];
    const verdicts = await dkimpyVerify(
      [...forged, ...added("Received: from relay.example by mx.example")],
      records,
    );
    expect(verdicts.map((v) => v.map((one) => one === true))).toEqual([
      ...forged.map(() => [false]),
      [true],
      [true],
    ]);
  });

  it("carries a second, Ed25519 signature (RFC 8463) that verifies too, when a key is given", async () => {
    const messages = await sendIssue(true);
    expect(await dkimpyVerify(messages, records)).toEqual(readers.map(() => [true, true]));
    const tags = signatureFields(messages[0] as Buffer).map(signatureTags);
    expect(tags.map((t) => t.get("a"))).toEqual(["rsa-sha256", "ed25519-sha256"]);
    expect(tags.map((t) => t.get("s"))).toEqual(["digest", "digest-ed25519"]);
    expect(tags[1]?.get("h")).toBe(tags[0]?.get("h"));
    expect(tags[1]?.get("bh")).toBe(tags[0]?.get("bh"));
  });

  it("fails dkimpy's check once a byte of the body or a signed header changes on the way", async () => {
    const [raw] = await sendIssue(true);
    const text = (raw as Buffer).toString("latin1");
    const body = Buffer.from(text.replace(/Vol 2\.6(?![^\r\n]*:)/, "Vol 2.7"), "latin1");
    const subject = Buffer.from(text.replace(/^Subject: /m, "Subject: Re: "), "latin1");
    expect(body.equals(raw as Buffer)).toBe(false);
    // dkimpy says so with false or with an error (a body hash mismatch is one): either way, not true.
    const verdicts = await dkimpyVerify([body, subject], records);
    expect(verdicts.map((v) => v.map((one) => one === true))).toEqual([
      [false, false],
      [false, false],
    ]);
  });
});

describe("a signed transactional mail", () => {
  it("verifies with dkimpy", async () => {
    const links = readerLinks(
      identity,
      secret,
      { subscriberId: "0b7c2d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0e", email: "reader@readers.test" },
      "",
    );
    const { raw, envelope } = await composeTransactional({
      identity,
      kind: "welcome",
      mail: {
        subject: "Welcome  to\tthe Digest",
        html: "<p>Hello   there</p>",
        text: "Hello   there \n\n\n",
      },
      links,
      key: "dkim-verify",
    });
    const mailer = createMailer({
      smtpUrl: smtp.url,
      pool: 1,
      dkim: { domainName: "example.org", keySelector: "digest", privateKey: rsa.privateKey },
    });
    const before = smtp.messages.length;
    await mailer.sendRaw(envelope, raw);
    mailer.close();
    const [signed] = (await smtp.waitFor(before + 1)).slice(before);
    expect(await dkimpyVerify([signed?.raw as Buffer], records)).toEqual([[true]]);
  });
});

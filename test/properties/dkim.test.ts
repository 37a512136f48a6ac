import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNewsletter } from "../../src/newsletter.js";
import { ed25519Selector } from "../../src/sending/dkim.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import { createMailer, type Mailer } from "../../src/sending/mailer.js";
import { messageId, readerLinks } from "../../src/sending/reader-links.js";
import { buildTemplate, splice } from "../../src/sending/template.js";
import { dkimpyVerify, keyRecord } from "../helpers/dkimpy.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";

/**
 * Whatever a message holds (dotted lines, long folded headers, non-ASCII names and subjects,
 * blanks and tabs everywhere, CR, LF and CRLF line ends mixed), both of its signatures verify with
 * dkimpy once it has crossed SMTP: what we sign is what the server receives.
 */
const identity = resolveIdentity(
  { publicUrl: "https://news.example.org", mailDomain: "example.org" },
  loadNewsletter("newsletter.yaml"),
);
const secret = "property-secret-0123456789-0123456789abcdef";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed25519 = generateKeyPairSync("ed25519");
const records = {
  "prop._domainkey.example.org": keyRecord(rsa.publicKey),
  [`${ed25519Selector("prop")}._domainkey.example.org`]: keyRecord(ed25519.publicKey),
};
let smtp: SmtpCapture;
let mailer: Mailer;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  mailer = createMailer({
    smtpUrl: smtp.url,
    pool: 3,
    dkim: {
      domainName: "example.org",
      keySelector: "prop",
      privateKey: rsa.privateKey,
      ed25519: { keySelector: ed25519Selector("prop"), privateKey: ed25519.privateKey },
    },
  });
});
afterAll(async () => {
  mailer?.close();
  await smtp?.close();
});

const lineEnd = fc.constantFrom("\n", "\r\n", "\r", "\r\n", "\n");
/** Lines that canonicalisation or SMTP treat specially, and text of every kind. */
const line = fc.oneof(
  fc.constantFrom(
    ".",
    "..",
    ".leading dot",
    "...",
    " . ",
    "",
    "   ",
    "\t",
    "trailing blanks  \t ",
    "a\t\tb  c",
  ),
  fc.string({ maxLength: 90, unit: "grapheme" }),
  fc.string({ minLength: 100, maxLength: 300 }),
  fc.constantFrom("Tanaka 田中 🎉 مريم", "x".repeat(998), "=3D=\t=20 ="),
);
const body = fc
  .array(fc.tuple(line, lineEnd), { maxLength: 25 })
  .chain((lines) =>
    fc
      .constantFrom("", "\n", "\r\n\r\n\r\n", "  \n\t\n", "no end")
      .map((tail) => lines.map(([text, end]) => text + end).join("") + tail),
  );
const name = fc.oneof(
  fc.string({ maxLength: 80, unit: "grapheme" }),
  fc.constantFrom("Ōsaka Bureau 大阪", "Zoë  \t Müller", "Dr. O'Brien, Pat", "x".repeat(200)),
);
const subject = fc.oneof(
  fc.string({ maxLength: 200, unit: "grapheme" }),
  fc.constantFrom(
    "Vol 2.6:\tthe  minerals deal",
    `${"long words ".repeat(40)}end`,
    "日米同盟 — ダイジェスト",
  ),
);
/** No CR, LF or NUL: a header value with one is refused before signing, never sent. */
const oneLine = (s: string) => s.replace(/[\r\n\0]/g, " ");

/** Sends messages through the signing mailer and returns dkimpy's verdicts on what arrived. */
async function sendAndVerify(messages: { raw: Buffer | string; dataReady?: boolean }[]) {
  const before = smtp.messages.length;
  await Promise.all(
    messages.map((m, i) =>
      mailer.sendRaw({ from: "bounce@example.org", to: [`r${i}@readers.test`] }, m.raw, {
        dataReady: m.dataReady ?? false,
      }),
    ),
  );
  const arrived = (await smtp.waitFor(before + messages.length)).slice(before).map((m) => m.raw);
  return dkimpyVerify(arrived, records);
}

describe("DKIM signatures of generated messages", () => {
  it("verify for issues spliced from any subject, sender name and body", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ subject, name, text: body, html: body }), { minLength: 4, maxLength: 4 }),
        async (issues) => {
          const messages = [];
          for (const [i, issue] of issues.entries()) {
            const template = await buildTemplate({
              identity: { ...identity, from: { ...identity.from, name: oneLine(issue.name) } },
              subject: oneLine(issue.subject),
              rendition: { text: issue.text, html: `<p>${issue.html}</p>` },
            });
            const email = `reader${i}@readers.test`;
            const links = readerLinks(
              identity,
              secret,
              { subscriberId: "2f0c2b7e-8a53-4c4e-9f0e-3d7f4c1b9a10", email },
              "vol-2-6",
            );
            messages.push(splice(template, { ...links, messageId: messageId(identity, secret, "s", i) }));
          }
          const verdicts = await sendAndVerify(messages);
          expect(verdicts).toEqual(messages.map(() => [true, true]));
        },
      ),
      { numRuns: 12 },
    );
  });

  it("verify for raw messages with folded headers, 8-bit names and any line ends", async () => {
    const header = fc
      .tuple(
        fc.constantFrom("Subject", "From", "To", "X-Note", "Content-Type", "List-Unsubscribe"),
        fc.array(fc.tuple(fc.oneof(line, name), fc.constantFrom("\r\n ", "\n\t", "\r\n\t  ")), {
          maxLength: 3,
        }),
        line,
      )
      .map(
        ([field, folds, last]) =>
          `${field}: ${folds.map(([text, fold]) => oneLine(text) + fold).join("")}${oneLine(last)}`,
      );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ headers: fc.array(header, { minLength: 1, maxLength: 6 }), end: lineEnd, body }),
          { minLength: 4, maxLength: 4 },
        ),
        async (mails) => {
          const messages = mails.map((m) => ({
            raw: `From: "Zoë" <news@example.org>${m.end}${m.headers.join(m.end)}${m.end}${m.end}${m.body}`,
          }));
          const verdicts = await sendAndVerify(messages);
          expect(verdicts).toEqual(messages.map(() => [true, true]));
        },
      ),
      { numRuns: 12 },
    );
  });
});

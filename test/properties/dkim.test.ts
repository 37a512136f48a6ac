import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIssue } from "../../src/issues/lint.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { ed25519Selector } from "../../src/sending/dkim.js";
import { hashRelaxedBody } from "../../src/sending/dkim-body.js";
import { signedHeaders, templateSignedHeaders } from "../../src/sending/dkim-headers.js";
import { templateBodyHash } from "../../src/sending/dkim-template.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import { createMailer, type Mailer } from "../../src/sending/mailer.js";
import { messageId, readerLinks } from "../../src/sending/reader-links.js";
import { isClean } from "../../src/sending/smtp-data.js";
import {
  buildTemplate,
  type MessageTemplate,
  type SplicedParts,
  splice,
} from "../../src/sending/template.js";
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

/** The body hash of a whole message from its bytes: the general path. */
const fromBytes = (raw: Buffer) => {
  const hash = createHash("sha256");
  hashRelaxedBody(hash, raw.subarray(raw.indexOf("\r\n\r\n") + 4));
  return hash.digest("base64");
};

/** Sends messages through the signing mailer and returns dkimpy's verdicts on what arrived. */
async function sendAndVerify(
  messages: { raw: Buffer | string; dataReady?: boolean; parts?: SplicedParts }[],
) {
  const before = smtp.messages.length;
  await Promise.all(
    messages.map((m, i) =>
      mailer.sendRaw({ from: "bounce@example.org", to: [`r${i}@readers.test`] }, m.raw, {
        dataReady: m.dataReady ?? false,
        ...(m.parts ? { parts: m.parts } : {}),
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

  it("hash a spliced body from the template's runs exactly as from the message's bytes", async () => {
    const checked = await checkIssue(
      readFileSync("examples/issues/vol-2-6.md", "utf8"),
      loadNewsletter("newsletter.yaml"),
    );
    const seed = await buildTemplate({
      identity,
      subject: checked.issue?.subject ?? "",
      rendition: checked.rendition ?? { html: "", text: "" },
    });
    const value = fc.oneof(
      fc.webUrl(),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(" lead", "trail ", "a  b\tc", ".", "", "x".repeat(300), "a =3D b"),
    );
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.record({ text: body, html: body })),
        value,
        value,
        async (rendition, url, view) => {
          const template = rendition
            ? await buildTemplate({
                identity,
                subject: "s",
                rendition: { text: rendition.text, html: `<p>${rendition.html}</p>` },
              })
            : seed;
          const links = readerLinks(
            identity,
            secret,
            { subscriberId: "2f0c2b7e-8a53-4c4e-9f0e-3d7f4c1b9a10", email: "r@readers.test" },
            "s",
          );
          let spliced: ReturnType<typeof splice>;
          try {
            spliced = splice(template, {
              ...links,
              unsubscribeUrl: url,
              viewUrl: view,
              messageId: "<a@example.org>",
            });
          } catch {
            return; // a value it refuses to carry
          }
          if (!spliced.dataReady) return; // the mailer hashes the bytes then
          const fromParts = templateBodyHash(spliced.parts);
          if (fromParts === undefined) return; // the general path, by design
          fast++;
          expect(fromParts).toBe(fromBytes(spliced.raw));
        },
      ),
      { numRuns: 300 },
    );
    // The seed issue with our own links takes the template path: the property is not vacuous.
    expect(
      templateBodyHash(
        splice(seed, {
          ...readerLinks(
            identity,
            secret,
            { subscriberId: "2f0c2b7e-8a53-4c4e-9f0e-3d7f4c1b9a10", email: "r@readers.test" },
            "s",
          ),
          messageId: "<a@example.org>",
        }).parts,
      ),
    ).toBeDefined();
    // And many generated cases took it too. How many depends on the run's random seed: about one
    // in five of the 300 (44 to 60-odd seen); 30 is far enough below that to fail only when the
    // template path stops being taken, not on an unlucky seed (it was 50, and failed once at 44).
    expect(fast).toBeGreaterThan(30);
  });

  it("hash the body of any template as its bytes, or leave it to the general path", () => {
    // Templates made by hand, with blanks and line ends at every edge of runs and values.
    const piece = fc
      .array(fc.constantFrom("a", " ", "\t", "\r\n", "b", "  ", "="), { maxLength: 8 })
      .map((a) => a.join(""));
    const names = ["text:email", "text:viewUrl", "html:manageUrl", "html:unsubscribeUrl"] as const;
    let fast = 0;
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 2, maxLength: 5 }),
        fc.array(piece, { minLength: 4, maxLength: 4 }),
        (runs, values) => {
          const { template, raw, values: cut } = handMade("Subject: s\r\n\r\n", runs, values, names);
          const fromParts = templateBodyHash({ template, values: cut });
          if (fromParts === undefined) return;
          fast++;
          expect(fromParts).toBe(fromBytes(raw));
        },
      ),
      { numRuns: 3000 },
    );
    // And many generated cases took it too. How many depends on the run's random seed: about one
    // in five of the 300 (44 to 60-odd seen); 30 is far enough below that to fail only when the
    // template path stops being taken, not on an unlucky seed (it was 50, and failed once at 44).
    expect(fast).toBeGreaterThan(30);
  });

  it("canonicalise a spliced message's headers from its template exactly as from its bytes", async () => {
    /** The general path: the header block of the message's own bytes. */
    const fromHead = (raw: Buffer) => signedHeaders(raw.toString("latin1", 0, raw.indexOf("\r\n\r\n") + 2));
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(
        subject,
        name,
        fc.oneof(fc.webUrl(), fc.constantFrom("a b", "", " x", "x".repeat(300))),
        async (s, n, url) => {
          const template = await buildTemplate({
            identity: { ...identity, from: { ...identity.from, name: oneLine(n) } },
            subject: oneLine(s),
            rendition: { text: "t", html: "<p>h</p>" },
          });
          const links = readerLinks(
            identity,
            secret,
            { subscriberId: "2f0c2b7e-8a53-4c4e-9f0e-3d7f4c1b9a10", email: "r@readers.test" },
            "s",
          );
          let spliced: ReturnType<typeof splice>;
          try {
            spliced = splice(template, { ...links, unsubscribeUrl: url, messageId: "<a@example.org>" });
          } catch {
            return; // a value it refuses to carry
          }
          const fromTemplate = templateSignedHeaders(spliced.parts);
          if (fromTemplate === undefined) return; // the general path, by design
          fast++;
          expect(fromTemplate).toEqual(fromHead(spliced.raw));
        },
      ),
      { numRuns: 200 },
    );
    expect(fast).toBeGreaterThan(100);
    // Templates made by hand: values in folded fields, beside blanks, in unsigned fields, in a name.
    const run = fc
      .array(
        fc.constantFrom("a", " ", "\t", "\r\n ", "\r\n\t", ":", "Subject:", "\r\nTo:", "\r\nX-Y: ", "\r\n"),
        {
          maxLength: 6,
        },
      )
      .map((a) => a.join(""));
    const value = fc.constantFrom("v@x.test", "<id@x>", "a b", "", " lead", "https://x.test/u?a=1", "Cc");
    let handFast = 0;
    fc.assert(
      fc.property(
        fc.array(run, { minLength: 2, maxLength: 4 }),
        fc.array(value, { minLength: 3, maxLength: 3 }),
        (runs, values) => {
          const {
            template,
            raw,
            values: cut,
          } = handMade(
            "From: a@x.test\r\nTo:",
            runs,
            values,
            ["to", "messageId", "unsubscribeUrl"],
            "\r\n\r\nbody\r\n",
          );
          const fromTemplate = templateSignedHeaders({ template, values: cut });
          if (fromTemplate === undefined) return;
          handFast++;
          expect(fromTemplate).toEqual(fromHead(raw));
        },
      ),
      { numRuns: 3000 },
    );
    expect(handFast).toBeGreaterThan(300);
  });
});

/**
 * A template made by hand: `start`, the runs with a slot before each run after the first (its
 * value the next of `values`, named by the next of `used`), then `end`; and the message its
 * splice is, byte for byte. `values` comes back cut to the slots there are.
 */
function handMade(
  start: string,
  runs: string[],
  allValues: string[],
  used: MessageTemplate["used"],
  end = "",
): { template: MessageTemplate; raw: Buffer; values: string[] } {
  const slots: { at: number; value: number }[] = [];
  let bytes = start + (runs[0] ?? "");
  let raw = bytes;
  for (const [i, run] of runs.slice(1).entries()) {
    slots.push({ at: Buffer.byteLength(bytes, "latin1"), value: i });
    bytes += run;
    raw += (allValues[i] ?? "") + run;
  }
  const template = {
    bytes: Buffer.from(bytes + end, "latin1"),
    slots,
    used: used.slice(0, slots.length),
    plainLines: runs.every((r) => isClean(Buffer.from(r, "latin1"))),
  };
  return { template, raw: Buffer.from(raw + end, "latin1"), values: allValues.slice(0, slots.length) };
}

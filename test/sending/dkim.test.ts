import { createHash, generateKeyPairSync, verify } from "node:crypto";
import DKIM from "nodemailer/lib/dkim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dkimAlignmentWarning, organisationalDomain } from "../../src/sending/dkim-alignment.js";
import { createMailer } from "../../src/sending/mailer.js";
import { readerLinks } from "../../src/sending/reader-links.js";
import { composeTransactional } from "../../src/sending/transactional-mail.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { identity, secret } from "./harness.js";

/**
 * DKIM signatures as a receiver checks them: the signature verifies, and names From, Subject and
 * List-Unsubscribe once more than the message has them, so a second one added on the way breaks it.
 */
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
let smtp: SmtpCapture;
let signed: Buffer;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  const links = readerLinks(
    identity,
    secret,
    { subscriberId: "0b7c2d8e-1f2a-4b3c-9d4e-5f6a7b8c9d0e", email: "reader@readers.test" },
    "",
  );
  const { raw, envelope } = await composeTransactional({
    identity,
    kind: "welcome",
    mail: { subject: "Welcome  to\tthe Digest", html: "<p>Hello   there</p>", text: "Hello   there \n\n\n" },
    links,
    key: "dkim-test",
  });
  const mailer = createMailer({
    smtpUrl: smtp.url,
    pool: 1,
    dkim: { domainName: "example.org", keySelector: "digest", privateKey: privatePem },
  });
  await mailer.sendRaw(envelope, raw);
  mailer.close();
  signed = (await smtp.waitFor(1))[0]!.raw;
});
afterAll(() => smtp?.close());

/** Header fields of a raw message, in order, each with its continuation lines. */
function fields(head: string): { name: string; raw: string }[] {
  const out: { name: string; raw: string }[] = [];
  for (const line of head.split("\r\n")) {
    if (/^[ \t]/.test(line) && out.length) (out[out.length - 1] as { raw: string }).raw += `\r\n${line}`;
    else if (line) out.push({ name: line.slice(0, line.indexOf(":")).toLowerCase(), raw: line });
  }
  return out;
}

const relaxed = (raw: string) => {
  const at = raw.indexOf(":");
  const value = raw
    .slice(at + 1)
    .replace(/\r\n([ \t])/g, "$1")
    .replace(/[ \t]+/g, " ")
    .trim();
  return `${raw.slice(0, at).trim().toLowerCase()}:${value}`;
};

/** An independent RFC 6376 verifier (relaxed/relaxed, rsa-sha256) for the first DKIM-Signature. */
function verifyDkim(message: Buffer): { valid: boolean; tags: Map<string, string> } {
  const text = message.toString("latin1");
  const split = text.indexOf("\r\n\r\n");
  const all = fields(text.slice(0, split));
  const body = text.slice(split + 4);
  const signature = all.find((f) => f.name === "dkim-signature");
  if (!signature) throw new Error("no DKIM-Signature");
  const tags = new Map(
    relaxed(signature.raw)
      .slice("dkim-signature:".length)
      .split(";")
      .map((t) => t.trim())
      .filter(Boolean)
      .map(
        (t) =>
          [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1).replace(/\s+/g, "")] as [string, string],
      ),
  );
  const canonicalBody = body
    .split("\r\n")
    .map((line) => line.replace(/[ \t]+/g, " ").replace(/ $/, ""))
    .join("\r\n")
    .replace(/(\r\n)*$/, "");
  const bodyHash = createHash("sha256")
    .update(canonicalBody ? `${canonicalBody}\r\n` : "", "latin1")
    .digest("base64");
  if (bodyHash !== tags.get("bh")) return { valid: false, tags };
  const used = new Map<string, number>();
  let data = "";
  for (const name of (tags.get("h") ?? "").toLowerCase().split(":")) {
    const instances = all.filter((f) => f.name === name && f !== signature);
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    const field = instances[instances.length - 1 - n];
    if (field) data += `${relaxed(field.raw)}\r\n`;
  }
  data += relaxed(signature.raw)
    .replace(/b=[^;]*$/, "b=")
    .replace(/([; ])b=[^;]*/, "$1b=");
  const valid = verify(
    "RSA-SHA256",
    Buffer.from(data, "latin1"),
    publicKey,
    Buffer.from(tags.get("b") ?? "", "base64"),
  );
  return { valid, tags };
}

/** Where the DKIM-Signature (the first header) ends. */
const signatureEnd = (text: string) => text.search(/\r\n(?![ \t])/) + 2;

/** The message with a header added right after the signature, as a mailing list or forger would. */
const withHeader = (message: Buffer, line: string) => {
  const text = message.toString("latin1");
  const at = signatureEnd(text);
  return Buffer.from(`${text.slice(0, at)}${line}\r\n${text.slice(at)}`, "latin1");
};

describe("a DKIM-signed message", () => {
  it("carries a signature that verifies, over a body hash nodemailer's signer agrees with", async () => {
    const { valid, tags } = verifyDkim(signed);
    expect(valid).toBe(true);
    expect(tags.get("d")).toBe("example.org");
    expect(tags.get("a")).toBe("rsa-sha256");
    expect(tags.get("c")).toBe("relaxed/relaxed");
    const unsigned = signed.subarray(signatureEnd(signed.toString("latin1")));
    const theirs = (
      await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const dkim = new DKIM({ domainName: "example.org", keySelector: "digest", privateKey: privatePem });
        const stream = dkim.sign(unsigned);
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
      })
    ).toString("latin1");
    expect(/bh=([^;]+);/.exec(theirs.replace(/\r\n\s+/g, ""))?.[1]).toBe(tags.get("bh"));
  });

  it("names From, Subject and List-Unsubscribe twice in h=, once more than the message has them", () => {
    const names = (verifyDkim(signed).tags.get("h") ?? "").toLowerCase().split(":");
    const count = (name: string) => names.filter((n) => n === name).length;
    expect(count("from")).toBe(2);
    expect(count("subject")).toBe(2);
    expect(count("list-unsubscribe")).toBe(2);
    expect(count("list-unsubscribe-post")).toBe(1);
  });

  it("no longer verifies once a second From, Subject or List-Unsubscribe is added; other headers do not matter", () => {
    expect(verifyDkim(withHeader(signed, "From: Bank <security@bank.example>")).valid).toBe(false);
    expect(verifyDkim(withHeader(signed, "Subject: Your account is locked")).valid).toBe(false);
    expect(verifyDkim(withHeader(signed, "List-Unsubscribe: <https://evil.example/u>")).valid).toBe(false);
    expect(verifyDkim(withHeader(signed, "X-Spam-Score: 0.1")).valid).toBe(true);
  });
});

describe("DKIM alignment with the From domain", () => {
  it("is the organisational domain: the last two labels, three under two-level public suffixes", () => {
    expect(organisationalDomain("mail.example.org")).toBe("example.org");
    expect(organisationalDomain("news.ministry.go.jp")).toBe("ministry.go.jp");
    expect(organisationalDomain("bulk.shop.co.uk")).toBe("shop.co.uk");
    expect(organisationalDomain("lists.agency.gov.uk")).toBe("agency.gov.uk");
  });

  it("warns for a signing domain of another organisation, not for a subdomain of the From domain", () => {
    expect(dkimAlignmentWarning("mail.example.org", "news@example.org")).toBeUndefined();
    expect(dkimAlignmentWarning("example.org", "news@lists.example.org")).toBeUndefined();
    expect(dkimAlignmentWarning("sendgrid.net", "news@example.org")).toMatch(/not aligned/);
    expect(dkimAlignmentWarning("other.co.uk", "news@shop.co.uk")).toMatch(/not aligned/);
  });
});

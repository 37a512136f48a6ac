import { createHash, createSign } from "node:crypto";

/**
 * DKIM signing (RFC 6376, rsa-sha256, relaxed/relaxed) of a prebuilt message. Our own rather than
 * nodemailer's because nodemailer signs each header name once: a signature must name From, Subject
 * and List-Unsubscribe once more than the message has them ("oversigning", RFC 6376 §8.15), or
 * anyone relaying the message can add a second From or a second unsubscribe link and the
 * signature still holds.
 */
export interface DkimOptions {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/** Signed when present, in this order; RFC 8058 one-click counts only when both List-Unsubscribe headers are. */
const signedNames = [
  "from",
  "sender",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "to",
  "cc",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "list-id",
  "list-archive",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "auto-submitted",
];
/** Named once more than they occur, so a second one added later breaks the signature. */
const oversigned = new Set(["from", "subject", "list-unsubscribe"]);

export type DkimSigner = (message: Buffer) => Buffer;

export function dkimSigner(options: DkimOptions): DkimSigner {
  const domain = options.domainName.toLowerCase().replace(/[^a-z0-9.-]/g, "");
  const selector = options.keySelector.replace(/[^A-Za-z0-9._-]/g, "");
  return (message) => {
    const text = message.toString("latin1");
    const split = text.indexOf("\r\n\r\n");
    const head = split === -1 ? `${text}\r\n` : text.slice(0, split + 2);
    const body = split === -1 ? "" : text.slice(split + 4);
    const headers = headerFields(head);
    const names: string[] = [];
    const canonical: string[] = [];
    for (const name of signedNames) {
      // Instances are signed from the bottom up (RFC 6376 §5.4.2); a name past the last instance
      // signs "nothing here", which is what stops a later addition.
      const found = headers.filter((h) => h.name === name).reverse();
      for (const field of found) {
        names.push(name);
        canonical.push(relaxedHeader(field.raw));
      }
      if (oversigned.has(name)) names.push(name);
    }
    const bodyHash = createHash("sha256").update(relaxedBody(body), "latin1").digest("base64");
    const unsigned =
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=${selector};\r\n` +
      ` t=${Math.floor(Date.now() / 1000)}; h=${names.join(":")};\r\n bh=${bodyHash}; b=`;
    const signer = createSign("RSA-SHA256");
    signer.update(canonical.join("") + relaxedHeader(unsigned).replace(/\r\n$/, ""), "latin1");
    const signature = signer.sign(options.privateKey, "base64");
    const folded = signature.replace(/.{1,72}/g, "\r\n $&");
    return Buffer.concat([Buffer.from(`${unsigned}${folded}\r\n`, "latin1"), message]);
  };
}

interface HeaderField {
  /** Lower-case name. */
  name: string;
  /** The whole field as it stands, continuation lines and final CRLF included. */
  raw: string;
}

function headerFields(head: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of head.split(/(?<=\r\n)/)) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) last.raw += line;
    else fields.push({ name: line.slice(0, line.indexOf(":")).trim().toLowerCase(), raw: line });
  }
  return fields;
}

/** RFC 6376 §3.4.2: lower-case name, unfolded, runs of blanks as one space, none at the ends. */
export function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(":");
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, "")
    .replace(/\r\n$/, "")
    .replace(/[ \t]+/g, " ")
    .trim();
  return `${name}:${value}\r\n`;
}

/** RFC 6376 §3.4.4: blanks collapsed, none at line ends, no empty lines at the end. */
export function relaxedBody(body: string): string {
  const lines = body
    .replace(/[ \t]+/g, " ")
    .replace(/ (?=\r\n|$)/g, "")
    .replace(/(?:\r\n)+$/, "");
  return lines === "" ? "" : `${lines}\r\n`;
}

import { createHash, createPrivateKey, type KeyObject, sign } from "node:crypto";
import { hashRelaxedBody } from "./dkim-body.js";
import { relaxedHeader, signedHeaders, templateSignedHeaders } from "./dkim-headers.js";
import { templateBodyHash } from "./dkim-template.js";
import type { SplicedParts } from "./template.js";

/**
 * DKIM signing (RFC 6376, rsa-sha256, relaxed/relaxed) of a prebuilt message, and optionally a
 * second signature with Ed25519 (RFC 8463). Our own rather than nodemailer's because nodemailer
 * signs each header name once: a signature must name From, Subject and List-Unsubscribe once more
 * than the message has them ("oversigning", RFC 6376 §8.15), or anyone relaying the message can add
 * a second From or a second unsubscribe link and the signature still holds.
 *
 * It costs about one RSA signature a message and little else (measured with --cpu-prof, see the
 * README's Figures): the key is parsed once (a PEM parsed at every signature cost four times the
 * signature itself), the body is hashed from the message's bytes in one pass without a string of
 * it, only the header block is read as text (and for a spliced message not even that: its signed
 * headers are canonicalised once per template, dkim-headers.ts), and the signature itself is
 * computed on libuv's thread pool, so the sessions of the worker go on meanwhile.
 */
export interface DkimOptions {
  domainName: string;
  keySelector: string;
  /** An RSA private key: PEM, or a key object parsed once at start. */
  privateKey: string | KeyObject;
  /** A second signature, a=ed25519-sha256, under a selector of its own (a selector holds one key). */
  ed25519?: { keySelector: string; privateKey: string | KeyObject };
}

/**
 * The DKIM-Signature header field(s) of a message, to be written in front of it. The message must
 * be the bytes as the server will receive them, CRLF line ends only (smtp-data.ts's `crlfOnly`).
 * `parts`: what a spliced message was spliced from, exactly (then its body is hashed from the
 * template's canonical runs and the reader's values).
 */
export type DkimSigner = (message: Buffer, parts?: SplicedParts) => Promise<Buffer>;

/** Checks the key's type once, so a wrong file fails at start and not at the first message. */
export function dkimKey(key: string | KeyObject, type: "rsa" | "ed25519"): KeyObject {
  const parsed = typeof key === "string" ? createPrivateKey(key) : key;
  if (parsed.type !== "private" || parsed.asymmetricKeyType !== type)
    throw new Error(`not an ${type === "rsa" ? "RSA" : "Ed25519"} private key`);
  return parsed;
}

/**
 * Where the Ed25519 key is published: DKIM_SELECTOR with `-ed25519` after it, as one selector's
 * record holds one key and DKIM_ED25519_KEY_FILE is the only setting of the second signature.
 */
export const ed25519Selector = (selector: string) => `${selector}-ed25519`;

const headEnd = Buffer.from("\r\n\r\n");
const tagSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "");

export function dkimSigner(options: DkimOptions): DkimSigner {
  const domain = options.domainName.toLowerCase().replace(/[^a-z0-9.-]/g, "");
  const rsa = { key: dkimKey(options.privateKey, "rsa"), selector: tagSafe(options.keySelector) };
  const ed25519 = options.ed25519 && {
    key: dkimKey(options.ed25519.privateKey, "ed25519"),
    selector: tagSafe(options.ed25519.keySelector),
  };
  return async (message, parts) => {
    const split = message.indexOf(headEnd);
    const { names, canonical } =
      (parts && templateSignedHeaders(parts)) ??
      signedHeaders(message.toString("latin1", 0, split === -1 ? message.length : split + 2));
    const bodyHash = (parts && templateBodyHash(parts)) ?? generalBodyHash(message, split);
    const common = `c=relaxed/relaxed; d=${domain};`;
    const tags = ` t=${Math.floor(Date.now() / 1000)}; h=${names};\r\n bh=${bodyHash}; b=`;
    const rsaField = `DKIM-Signature: v=1; a=rsa-sha256; ${common} s=${rsa.selector};\r\n${tags}`;
    const edField =
      ed25519 && `DKIM-Signature: v=1; a=ed25519-sha256; ${common} s=${ed25519.selector};\r\n${tags}`;
    const [rsaSignature, edSignature] = await Promise.all([
      signOffThread("sha256", Buffer.from(canonical + unterminated(rsaField), "latin1"), rsa.key),
      // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the same input, not the input itself.
      edField && ed25519
        ? signOffThread(
            null,
            createHash("sha256")
              .update(canonical + unterminated(edField), "latin1")
              .digest(),
            ed25519.key,
          )
        : undefined,
    ]);
    let fields = `${rsaField}${folded(rsaSignature)}\r\n`;
    if (edField && edSignature) fields += `${edField}${folded(edSignature)}\r\n`;
    return Buffer.from(fields, "latin1");
  };
}

/** The body hash from the message's bytes, in one pass. */
function generalBodyHash(message: Buffer, split: number): string {
  const hash = createHash("sha256");
  hashRelaxedBody(hash, split === -1 ? message.subarray(message.length) : message.subarray(split + 4));
  return hash.digest("base64");
}

/** On libuv's thread pool (the callback form of crypto.sign): the event loop is not held meanwhile. */
function signOffThread(algorithm: string | null, data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign(algorithm, data, key, (error, signature) => (error ? reject(error) : resolve(signature))),
  );
}

const folded = (signature: Buffer) => signature.toString("base64").replace(/.{1,72}/g, "\r\n $&");

/** The signature field as it is signed: canonical, without its final CRLF (RFC 6376 §3.7). */
const unterminated = (field: string) => relaxedHeader(field).slice(0, -2);

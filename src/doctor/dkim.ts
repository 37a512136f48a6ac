import { createPublicKey } from "node:crypto";
import { type Check, fail, ok } from "./check.js";
import { answered, type DnsLookup } from "./dns.js";

/**
 * DKIM (RFC 6376): the public key published at `<selector>._domainkey.<domain>` must be the public
 * half of DKIM_PRIVATE_KEY_FILE (compared as SPKI DER, the bytes the `p=` tag carries), and RSA of
 * at least 2048 bits (RFC 8301 §3.2: signers MUST use 2048 bits or more).
 */
export const minimumRsaBits = 2048;

export interface DkimSettings {
  domain?: string;
  selector?: string;
  privateKeyFile?: string;
}

export interface DkimKey {
  type: string;
  bits: number;
  /** The SPKI DER of the public key in base64: the `p=` value to publish. */
  publicKey: string;
}

/** The public half of a PEM private key; throws when it is no private key node can read. */
export function dkimKeyOf(privatePem: string): DkimKey {
  const key = createPublicKey(privatePem);
  return {
    type: key.asymmetricKeyType ?? "unknown",
    bits: key.asymmetricKeyDetails?.modulusLength ?? 0,
    publicKey: key.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** A DKIM key record's tags (`v=DKIM1; k=rsa; p=...`); values with their folding white space removed. */
export function dkimTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ""));
  }
  return tags;
}

export const dkimRecordValue = (publicKey: string) => `v=DKIM1; k=rsa; p=${publicKey}`;

/** Bits of a published `p=` key, or undefined when it is no key at all. */
function publishedBits(p: string): number | undefined {
  try {
    return createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" })
      .asymmetricKeyDetails?.modulusLength;
  } catch {
    return undefined;
  }
}

const makeKey = (domain: string, selector: string) =>
  [
    `openssl genrsa -out dkim-${selector}.key ${minimumRsaBits}`,
    `openssl rsa -in dkim-${selector}.key -pubout -outform DER | base64 -w0   # prints the p= value`,
    `then set DKIM_DOMAIN=${domain} DKIM_SELECTOR=${selector} DKIM_PRIVATE_KEY_FILE=/path/to/dkim-${selector}.key`,
    `and publish TXT at ${selector}._domainkey.${domain}: "v=DKIM1; k=rsa; p=<the base64 printed above>"`,
  ].join("\n");

/**
 * `readKey` reads DKIM_PRIVATE_KEY_FILE (injected so the check stays a function of its inputs).
 * `fromDomain` names the domain to suggest when DKIM is not configured at all.
 */
export function dkimCheck(
  settings: DkimSettings,
  fromDomain: string,
  dns: DnsLookup,
  readKey: (path: string) => string,
): Promise<Check> {
  const id = "dkim";
  return answered(id, async () => {
    const { domain, selector, privateKeyFile } = settings;
    if (!domain && !selector && !privateKeyFile)
      return fail(
        id,
        "DKIM is not configured, so mail goes out unsigned: Gmail and Microsoft reject or junk unsigned bulk mail",
        makeKey(fromDomain, "digest"),
      );
    if (!domain || !selector || !privateKeyFile) {
      const missing = [
        !domain && "DKIM_DOMAIN",
        !selector && "DKIM_SELECTOR",
        !privateKeyFile && "DKIM_PRIVATE_KEY_FILE",
      ].filter(Boolean);
      return fail(
        id,
        "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE go together: set all three or none",
        `set ${missing.join(" and ")}`,
      );
    }
    let key: DkimKey;
    try {
      key = dkimKeyOf(readKey(privateKeyFile));
    } catch (error) {
      return fail(
        id,
        `DKIM_PRIVATE_KEY_FILE ${privateKeyFile} is no readable private key (${(error as Error).message})`,
        makeKey(domain, selector),
      );
    }
    const name = `${selector}._domainkey.${domain}`;
    const publish = `TXT at ${name}: "${dkimRecordValue(key.publicKey)}"`;
    if (key.type !== "rsa")
      return fail(
        id,
        `DKIM_PRIVATE_KEY_FILE holds an ${key.type} key: the signature is rsa-sha256 and needs an RSA key`,
        makeKey(domain, selector),
      );
    if (key.bits < minimumRsaBits)
      return fail(
        id,
        `the DKIM key is RSA ${key.bits} bits: signers must use at least ${minimumRsaBits} (RFC 8301), and receivers treat shorter keys as no signature`,
        `make a ${minimumRsaBits}-bit key under a new selector and publish it before switching:\n${makeKey(domain, `${selector}2`)}`,
      );
    const records = (await dns.txt(name)).filter((r) => dkimTags(r).has("p"));
    if (records.length === 0)
      return fail(id, `no DKIM key is published at ${name}: receivers cannot check the signature`, publish);
    if (records.length > 1)
      return fail(
        id,
        `${records.length} DKIM key records at ${name}: receivers may pick either`,
        `keep only one: ${publish}`,
      );
    const tags = dkimTags(records[0] ?? "");
    const p = tags.get("p") ?? "";
    if (p === "") return fail(id, `the DKIM key at ${name} is revoked (empty p=)`, publish);
    if ((tags.get("k") ?? "rsa").toLowerCase() !== "rsa")
      return fail(id, `the DKIM record at ${name} says k=${tags.get("k")}, not rsa`, publish);
    if (!Buffer.from(p, "base64").equals(Buffer.from(key.publicKey, "base64"))) {
      const bits = publishedBits(p);
      return fail(
        id,
        `the DKIM key published at ${name} is not the public key of DKIM_PRIVATE_KEY_FILE (${bits ? `a different ${bits}-bit key` : "not a readable key"}): every signature fails`,
        `replace the record with: ${publish}`,
      );
    }
    return ok(id, `DKIM key at ${name} matches DKIM_PRIVATE_KEY_FILE (RSA ${key.bits} bits)`);
  });
}

import { domainToASCII } from "node:url";
import addressparser from "nodemailer/lib/addressparser";
import { z } from "zod";
import { DigestError } from "../errors.js";

/**
 * Addresses and names are normalised here, at the edge, before anything stores or mails them.
 * No home-made grammar: nodemailer's addressparser must read the input as exactly one bare address,
 * `node:url`'s WHATWG `domainToASCII` turns an IDN domain into punycode (and refuses what is no host
 * name), and the result must match the WHATWG "valid e-mail address" grammar that zod ships.
 */
export const maxAddressLength = 254;
export const maxLocalPartLength = 64;
export const maxNameLength = 100;

const html5Email = z.string().regex(z.regexes.html5Email);
// Anything that could end a header or hide in one: C0/C1 controls, DEL, line and paragraph separators.
const unsafe = /[\p{Cc}\u2028\u2029]/u;

/** The stored form of an address: local part as given, domain lower-cased and in punycode. */
export function normaliseAddress(input: unknown): string {
  if (typeof input !== "string") throw invalid("an email address is required");
  const raw = input.trim();
  if (raw === "") throw invalid("an email address is required");
  // Checked before parsing so a 10 MB "address" never reaches the parser.
  if (raw.length > maxAddressLength * 4) throw invalid("the email address is too long");
  if (unsafe.test(raw)) throw invalid("the email address has a line break or control character");
  const parsed = addressparser(raw, { flatten: true });
  const [only, ...more] = parsed;
  // The parser is lenient ("Bcc: x@y" reads as x@y): only an input it reads back unchanged is a bare address.
  if (!only || more.length > 0 || only.name !== "" || only.address !== raw) {
    throw invalid("enter one plain email address, like name@example.org");
  }
  const at = raw.lastIndexOf("@");
  const local = raw.slice(0, at);
  const domain = domainToASCII(raw.slice(at + 1).toLowerCase());
  if (at <= 0 || domain === "" || !domain.includes("."))
    throw invalid("the email address has no valid domain");
  if (local.length > maxLocalPartLength) throw invalid("the part before @ is longer than 64 characters");
  const address = `${local}@${domain}`;
  if (address.length > maxAddressLength) throw invalid("the email address is longer than 254 characters");
  if (!html5Email.safeParse(address).success) throw invalid("that is not a valid email address");
  // An RFC 2047 encoded word is not allowed in an address, yet some mail readers decode one there
  // anyway and would show a To of the sender's choosing ("Mailsploit").
  if (local.includes("=?")) throw invalid("that is not a valid email address");
  // What we store must be what we can send: a dot-atom local part, nothing a server would re-read.
  if (!isSendableAddress(address)) throw invalid("that is not a valid email address");
  return address;
}

// An address we can put in `To:` and the SMTP envelope as is. The local part is a dot-atom (RFC 5322): no leading, trailing or double dot. A server reads
// `.x@y` as the quoted `".x"@y`, another mailbox than the one staff typed.
const atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
const plainAddress = new RegExp(`^${atom}(?:\\.${atom})*@${label}(?:\\.${label})*$`);

export function isSendableAddress(address: string): boolean {
  // `=?` would start an RFC 2047 encoded word that some readers decode into another To (Mailsploit).
  return address.length <= 254 && plainAddress.test(address) && !address.includes("=?");
}

/** The key an address is known by: case-insensitive, as the unique index `lower(email)` sees it. */
export function addressKey(address: string): string {
  return normaliseAddress(address).toLowerCase();
}

/**
 * A reader's name: trimmed, NFC, length-limited, one line without control characters. Unicode and
 * right-to-left names are data like any other: pages escape them, and no mail header carries them.
 */
export function normaliseName(input: unknown): string | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== "string") throw invalid("the name must be text");
  const name = input.normalize("NFC").trim();
  if (name === "") return undefined;
  if (unsafe.test(name)) throw invalid("the name has a line break or control character");
  if ([...name].length > maxNameLength) throw invalid(`the name is longer than ${maxNameLength} characters`);
  return name;
}

function invalid(message: string): DigestError {
  return new DigestError("invalid", message);
}

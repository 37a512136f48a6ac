/**
 * Small text helpers shared by the parsers: byte clean-up, header-style field blocks (RFC 3464
 * delivery-status, RFC 5965 feedback-report, returned headers) and address extraction.
 */

/** CRLF to LF and no NUL bytes, before anything else looks at the message. */
export function normalizeRaw(raw: Buffer | string): Buffer {
  const buf = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
  const out = Buffer.alloc(buf.length);
  let n = 0;
  for (let i = 0; i < buf.length; i++) {
    const byte = buf[i] as number;
    if (byte === 0) continue;
    if (byte === 0x0d && buf[i + 1] === 0x0a) continue;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/** UTF-8 when the bytes are valid UTF-8, else Latin-1 (never throws, never loses ASCII). */
export function decodeText(buf: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return buf.toString("latin1");
  }
}

export type Fields = Map<string, string[]>;

/** Parses "Name: value" lines (with folded continuation lines) into lower-cased names. */
export function parseFields(block: string): Fields {
  const fields: Fields = new Map();
  let last: { name: string; values: string[] } | undefined;
  for (const line of block.split("\n")) {
    if (/^[ \t]/.test(line) && last) {
      const i = last.values.length - 1;
      last.values[i] = `${last.values[i]} ${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (!m) {
      last = undefined;
      continue;
    }
    const name = (m[1] as string).toLowerCase();
    const values = fields.get(name) ?? [];
    values.push((m[2] as string).trim());
    fields.set(name, values);
    last = { name, values };
  }
  return fields;
}

export function field(fields: Fields, name: string): string {
  return fields.get(name)?.[0] ?? "";
}

/** Splits text into paragraphs (blocks separated by blank lines). */
export function paragraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n/).filter((p) => p.trim() !== "");
}

const ADDRESS = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g;

/** Lower-cases the domain only: local parts are case-sensitive in principle. */
export function normalizeAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return address.trim();
  const local = address.slice(0, at).replace(/^[<"'(\s]+/, "");
  return `${local}@${address.slice(at + 1).toLowerCase()}`.replace(/[>"')\].,;:]+$/, "");
}

/** Every address in the text, in order of appearance. */
export function addressesIn(text: string): string[] {
  return [...text.matchAll(ADDRESS)].map((m) => normalizeAddress(m[0].replace(/^\.+/, "")));
}

/** The address in a DSN/ARF address field: "rfc822; a@b", "<a@b>", "Name <a@b>". */
export function addressOf(value: string): string {
  const stripped = value.replace(/^\s*[A-Za-z0-9-]+\s*;\s*/, "");
  return addressesIn(stripped)[0] ?? "";
}

/** One line, trimmed, bounded: what we store and print as a recipient's diagnostic. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Strips the "smtp;" (or "X-Postfix;", "X-Unix;") type prefix of a Diagnostic-Code. */
export function stripTypePrefix(value: string): string {
  return value.replace(/^\s*[A-Za-z0-9-]+\s*;\s*/, "");
}

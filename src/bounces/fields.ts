/**
 * Small text helpers shared by the parsers: byte clean-up, header-style field blocks (RFC 3464
 * delivery-status, RFC 5965 feedback-report, returned headers) and address extraction.
 */

/**
 * How much of a message the text heuristics read: the first 256 KB, each line cut at 4 KB. A
 * report's words and addresses stand near its start on short lines; a longer text is a returned
 * attachment or an attack, and reading all of it would only cost time.
 */
export const TEXT_LIMITS = { chars: 256 * 1024, lineChars: 4 * 1024 };

/** The part of the text the heuristics read (see TEXT_LIMITS). */
export function boundedText(text: string): string {
  const head = text.length > TEXT_LIMITS.chars ? text.slice(0, TEXT_LIMITS.chars) : text;
  const lines: string[] = [];
  let cut = false;
  for (let start = 0; start <= head.length; ) {
    const nl = head.indexOf("\n", start);
    const end = nl < 0 ? head.length : nl;
    if (end - start > TEXT_LIMITS.lineChars) cut = true;
    lines.push(head.slice(start, Math.min(end, start + TEXT_LIMITS.lineChars)));
    start = end + 1;
  }
  return cut ? lines.join("\n") : head;
}

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

/** A report field's line (RFC 3464, RFC 5965): a name of letters, digits and hyphens. */
const reportFieldLine = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/;

/**
 * Parses "Name: value" lines (with folded continuation lines) into lower-cased names. `fieldLine`
 * captures a line's name and value; a line it does not match ends the field before it.
 */
export function parseFields(block: string, fieldLine: RegExp = reportFieldLine): Fields {
  const fields: Fields = new Map();
  let last: { name: string; values: string[] } | undefined;
  for (const line of block.split("\n")) {
    if (/^[ \t]/.test(line) && last) {
      const i = last.values.length - 1;
      last.values[i] = `${last.values[i]} ${line.trim()}`;
      continue;
    }
    const m = fieldLine.exec(line);
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

/** Lower-cases the domain only: local parts are case-sensitive in principle. */
export function normalizeAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return address.trim();
  const local = address.slice(0, at).replace(/^[<"'(\s]+/, "");
  return trimEnd(`${local}@${address.slice(at + 1).toLowerCase()}`, TRAILING_PUNCTUATION);
}

const TRAILING_PUNCTUATION = new Set(`>"')].,;:`);

/**
 * The text without the trailing characters in `chars`. By hand: a pattern like `/[.,]+$/` retries
 * from every character of a long run that is not at the end, which is quadratic in the run.
 */
export function trimEnd(text: string, chars: ReadonlySet<string>): string {
  let end = text.length;
  while (end > 0 && chars.has(text.charAt(end - 1))) end--;
  return text.slice(0, end);
}

/**
 * Every address in the text, in order of appearance: what
 * `/[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}/g` matches, found in linear
 * time. That pattern retries from every character of a long run that holds no address, so a line of
 * a few hundred KB took minutes; here each `@` is found once and the text around it read once.
 */
export function addressesIn(text: string): string[] {
  const found: string[] = [];
  let from = 0;
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > from && isLocalChar(text.charCodeAt(start - 1))) start--;
    const end = start < at ? domainEnd(text, at + 1) : -1;
    if (end < 0) continue;
    found.push(normalizeAddress(text.slice(start, end).replace(/^\.+/, "")));
    from = end;
    at = end - 1;
  }
  return found;
}

// Where `(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}` matching at `start` ends, or -1: as many "label." as
// there are, then the longest run of two or more letters after the last dot that allows one.
function domainEnd(text: string, start: number): number {
  const afterDots: number[] = [];
  let i = start;
  for (;;) {
    let j = i;
    while (j < text.length && isLabelChar(text.charCodeAt(j))) j++;
    if (j === i || text.charCodeAt(j) !== DOT) break;
    i = j + 1;
    afterDots.push(i);
  }
  for (let k = afterDots.length - 1; k >= 0; k--) {
    const s = afterDots[k] as number;
    let j = s;
    while (j < text.length && isLetter(text.charCodeAt(j))) j++;
    if (j - s >= 2) return j;
  }
  return -1;
}

const DOT = 0x2e;
const LOCAL_SYMBOLS = new Set([..."!#$%&'*+/=?^_`{|}~.-"].map((c) => c.charCodeAt(0)));

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isLabelChar(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d;
}

function isLocalChar(code: number): boolean {
  return isLabelChar(code) || LOCAL_SYMBOLS.has(code);
}

/** Whether the character is one that `\s` matches. */
export function isSpace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return /\s/.test(String.fromCharCode(code));
}

/**
 * The runs of characters that are not `separator`s and hold an `@` with something on either side,
 * with where each starts: what `/[^S]+@[^S]+/g` matches for a separator class S (whose `[^S]`
 * includes `@`), in linear time. That pattern retries from every character of a long run without
 * an `@`, which is quadratic in the run.
 */
export function atTokens(
  text: string,
  separator: (code: number) => boolean,
): { token: string; index: number }[] {
  const tokens: { token: string; index: number }[] = [];
  for (let at = text.indexOf("@"); at >= 0; ) {
    let start = at;
    while (start > 0 && !separator(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && !separator(text.charCodeAt(end))) end++;
    const inner = text.indexOf("@", start + 1);
    if (inner >= 0 && inner <= end - 2) tokens.push({ token: text.slice(start, end), index: start });
    at = text.indexOf("@", end);
  }
  return tokens;
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

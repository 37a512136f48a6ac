import { headerBlockEnd, perTemplate } from "./dkim-template.js";
import type { MessageTemplate, SplicedParts } from "./template.js";

/**
 * Which header fields a DKIM signature covers, and their relaxed canonical form (RFC 6376 §3.4.2),
 * from a header block, or from a message template once per template (then per reader only the
 * To, Message-ID and List-Unsubscribe values are dropped in: no header is parsed again).
 */

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
const signed = new Set(signedNames);
/** Named once more than they occur, so a second one added later breaks the signature. */
const oversigned = new Set(["from", "subject", "list-unsubscribe"]);

export interface SignedHeaders {
  /** The `h=` tag's value. */
  names: string;
  /** The canonical fields `names` lists, in its order, each ending in CRLF. */
  canonical: string;
}

/**
 * The `h=` list and the canonical fields it names, from the header block (the only part of the
 * message read as text). Instances are signed from the bottom up (RFC 6376 §5.4.2); a name past
 * the last instance signs "nothing here", which is what stops a later addition.
 */
export function signedHeaders(head: string): SignedHeaders {
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  let at = 0;
  while (at < head.length) {
    const lineEnd = head.indexOf("\r\n", at);
    const end = lineEnd === -1 ? head.length : lineEnd + 2;
    const first = head.charCodeAt(at);
    if (first === 0x20 || first === 0x09) {
      // A continuation line belongs to the field above it.
      if (current) current[current.length - 1] += head.slice(at, end);
    } else {
      const colon = head.indexOf(":", at);
      const name = head
        .slice(at, colon === -1 || colon > end ? end : colon)
        .replace(blankEnds, "")
        .toLowerCase();
      current = undefined;
      if (signed.has(name)) {
        current = found.get(name) ?? [];
        found.set(name, current);
        current.push(head.slice(at, end));
      }
    }
    at = end;
  }
  const names: string[] = [];
  let canonical = "";
  for (const name of signedNames) {
    const instances = found.get(name) ?? [];
    for (let i = instances.length - 1; i >= 0; i--) {
      names.push(name);
      canonical += relaxedHeader(instances[i] as string);
    }
    if (oversigned.has(name)) names.push(name);
  }
  return { names: names.join(":"), canonical };
}

const blankEnds = /^[ \t]+|[ \t]+$/g;

/** RFC 6376 §3.4.2: lower-case name, unfolded, runs of blanks as one space, none at the ends. */
export function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(":");
  // Blanks are SP and HTAB only: String.trim() would also take a latin1 NBSP (0xA0).
  const name = raw.slice(0, colon).replace(blankEnds, "").toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, "")
    .replace(/\r\n$/, "")
    .replace(/[ \t]+/g, " ")
    .replace(blankEnds, "");
  return `${name}:${value}\r\n`;
}

/**
 * The signed headers of a spliced message from its template, or undefined where the caller must
 * read the message's own header block. The template's header block is canonicalised once with a
 * marker where each reader value goes; a value drops in unchanged as long as it has no blank, CR
 * or LF (so it can neither start, end nor join a run of blanks, nor fold) and is not empty: every
 * header value we splice (an address, a Message-ID, an unsubscribe URL) is such a value.
 */
export function templateSignedHeaders(parts: SplicedParts): SignedHeaders | undefined {
  const plan = planOf(parts.template);
  if (!plan) return undefined;
  let canonical = "";
  for (const piece of plan.pieces) {
    if (typeof piece === "string") canonical += piece;
    else {
      const value = parts.values[piece] ?? "";
      if (!dropsIn.test(value)) return undefined;
      canonical += value;
    }
  }
  return { names: plan.names, canonical };
}

interface HeaderPlan {
  names: string;
  /** The canonical fields: static text, and the index of the reader value that goes between. */
  pieces: (string | number)[];
}

const dropsIn = /^[\x21-\x7e]+$/;
/** Around a value's index in the marked header block; no header we build has a NUL. */
const marker = /\0(\d+)\0/g;

const planOf = perTemplate(headerPlan);

function headerPlan(template: MessageTemplate): HeaderPlan | null {
  const { bytes, slots } = template;
  const split = headerBlockEnd(template);
  if (split === -1 || bytes.subarray(0, split).includes(0)) return null;
  let head = "";
  let from = 0;
  for (const slot of slots) {
    if (slot.at > split + 2) break;
    head += `${bytes.toString("latin1", from, slot.at)}\0${slot.value}\0`;
    from = slot.at;
  }
  head += bytes.toString("latin1", from, split + 2);
  // A value must sit in a field's value, never in its name (which decides whether it is signed).
  for (const match of head.matchAll(marker)) {
    const lineStart = head.lastIndexOf("\r\n", match.index) + 2;
    const line = head.slice(lineStart, match.index);
    if (!line.includes(":") && !/^[ \t]/.test(line)) return null;
  }
  const { names, canonical } = signedHeaders(head);
  const pieces: (string | number)[] = [];
  let last = 0;
  for (const match of canonical.matchAll(marker)) {
    pieces.push(canonical.slice(last, match.index), Number(match[1]));
    last = match.index + match[0].length;
  }
  pieces.push(canonical.slice(last));
  return { names, pieces };
}

import MailComposer from "nodemailer/lib/mail-composer";
import { encode as qpEncode, wrap as qpWrap } from "nodemailer/lib/qp";
import { escapeHtml, placeholders } from "../issues/personalize.js";
import type { Rendition } from "../issues/render.js";
import { isSendableAddress } from "../subscribers/address.js";
import { trackingPlaceholderPattern } from "../tracking/links.js";
import { listId, type MailIdentity } from "./identity.js";
import { isClean } from "./smtp-data.js";

/**
 * Render once, splice per reader. The MIME message of a send is built once (nodemailer encodes the
 * headers, we encode the bodies) and cut into static byte runs and slots; a reader's message is the
 * runs with that reader's values dropped into the slots, one Buffer.concat, no MIME work at all.
 *
 * Each body slot sits on encoded lines of its own (a soft line break before and after), so a long
 * URL spliced in never makes a quoted-printable line longer than 76 characters and never lands in
 * the middle of an `=XX` escape.
 */
export interface ReaderParts {
  email: string;
  unsubscribeUrl: string;
  manageUrl: string;
  viewUrl: string;
  unsubscribeMailto: string;
  messageId: string;
  /** The reader's `/r/` and `/o/` URLs, for a tracked template (see tracking/links.ts). */
  tracking?: ReaderTracking;
}

export interface ReaderTracking {
  link(linkNo: number): string;
  open(): string;
}

type SlotName = "to" | "messageId" | "unsubscribeUrl" | "unsubscribeMailto" | BodySlot;
type BodySlot =
  | `${"text" | "html"}:${keyof typeof placeholders}`
  | `${"text" | "html"}:link:${number}`
  | `${"text" | "html"}:open`;
type Piece = Buffer | SlotName;

export interface MessageTemplate {
  /** Every static byte of the message, in order, in one buffer. */
  bytes: Buffer;
  /** Where the slots go, in order: `at` is an offset into `bytes`, `value` an index into `used`. */
  slots: readonly { at: number; value: number }[];
  /** The distinct slots the message has: each reader's value is encoded once per slot. */
  used: readonly SlotName[];
  /**
   * Every static run has CRLF line ends only, no line starting with a dot, and cannot join a slot
   * into a line end: a splice whose values are as plain (see `dataReady`) goes to DATA as it is.
   */
  plainLines: boolean;
}

/** A reader's message and whether it may go to DATA without dot-stuffing or line-end repair. */
export interface Spliced {
  raw: Buffer;
  dataReady: boolean;
  /** What it was spliced from: a DKIM signer hashes the body from these (dkim-template.ts). */
  parts: SplicedParts;
}

export interface SplicedParts {
  template: MessageTemplate;
  /** The reader's value of each of `template.used`, as spliced. */
  values: readonly string[];
}

const marker = {
  to: "xdigestslotto@slot.invalid",
  messageId: "<xdigestslotmid@slot.invalid>",
  unsubscribeUrl: "xdigestslotunsuburl",
  unsubscribeMailto: "xdigestslotunsubmailto",
  text: "xdigestslottextbody",
  html: "xdigestslothtmlbody",
} as const;

/**
 * What a message is, for its headers: an issue or a mail to a confirmed reader (`list`: the
 * List-* headers, one-click unsubscribe, SPEC §6), or a notice to someone not (yet, or no longer)
 * a reader (`notice`: `Auto-Submitted: auto-generated` and `X-Auto-Response-Suppress`, so
 * responders do not answer it).
 */
export type MessageKind = "list" | "notice";

export interface MessageInput {
  identity: MailIdentity;
  subject: string;
  /** HTML + text; placeholders in it become the reader's values at splice time. */
  rendition: Rendition;
  kind?: MessageKind;
  date?: Date;
  /** A test send: `[TEST] ` before the subject and a banner atop both bodies, so nobody mistakes it. */
  test?: boolean;
  /**
   * Mail Digest sends on its own (a welcome or unsubscribe-link mail to a reader): marked so
   * responders do not answer it, like a notice. An issue is not: it is mail a person wrote.
   */
  automatic?: boolean;
  /**
   * The rendition carries tracking slots (tracking/links.ts): each reader's splice needs their
   * `tracking` URLs. Only then are those slots looked for, so an untracked message never has one.
   */
  tracked?: boolean;
  /**
   * The language of a transactional mail (one of our catalogue's tags, never reader input): its
   * Content-Language header (RFC 3282). An issue has none: it is in whatever language staff wrote.
   */
  language?: string;
}

/**
 * RFC 3834's mark for mail no program should answer, and Exchange's own switch for out-of-office
 * and auto-replies (which ignore RFC 3834).
 */
function automaticHeaders(): Record<string, PreparedHeader> {
  return prepared({ "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply" });
}

/**
 * The one message builder: real sends, test sends, `digest render`, the demo and transactional
 * mail all build a template here and splice a reader into it, so they share one set of headers and
 * one set of checks.
 */
export async function buildTemplate(input: MessageInput): Promise<MessageTemplate> {
  const { identity } = input;
  const kind = input.kind ?? "list";
  const rendition = input.test ? withTestBanner(input.rendition) : input.rendition;
  const composer = new MailComposer({
    from: identity.from,
    replyTo: identity.replyTo,
    to: marker.to,
    subject: input.test ? `[TEST] ${input.subject}` : input.subject,
    text: marker.text,
    html: marker.html,
    messageId: marker.messageId,
    date: input.date ?? new Date(),
    headers: {
      ...(kind === "list" ? listHeaders(identity) : {}),
      ...(kind === "notice" || input.automatic ? automaticHeaders() : {}),
      ...(input.language && /^[a-z]{2,3}$/.test(input.language)
        ? prepared({ "Content-Language": input.language })
        : {}),
    },
  });
  const mail = composer.compile();
  mail.keepBcc = false;
  const skeleton = (await mail.build())
    .toString("utf8")
    .replace(
      /Content-Transfer-Encoding: 7bit\r\n\r\n(xdigestslot(?:text|html)body)/g,
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n$1",
    );
  const slotOf = new Map<string, SlotName | "text" | "html">([
    [marker.to, "to"],
    [marker.messageId, "messageId"],
    [marker.unsubscribeUrl, "unsubscribeUrl"],
    [marker.unsubscribeMailto, "unsubscribeMailto"],
    [marker.text, "text"],
    [marker.html, "html"],
  ]);
  const pattern = new RegExp([...slotOf.keys()].map(escapeRegExp).join("|"), "g");
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of skeleton.matchAll(pattern)) {
    pieces.push(Buffer.from(skeleton.slice(last, match.index), "utf8"));
    const slot = slotOf.get(match[0]);
    if (slot === "text" || slot === "html")
      pieces.push(...bodyPieces(slot, rendition[slot], input.tracked === true));
    else if (slot) pieces.push(slot);
    last = match.index + match[0].length;
  }
  pieces.push(Buffer.from(skeleton.slice(last), "utf8"));
  const found = new Set(pieces.filter((p) => typeof p === "string"));
  const needs: SlotName[] = ["to", "messageId"];
  if (kind === "list") needs.push("unsubscribeUrl", "unsubscribeMailto");
  for (const needed of needs)
    if (!found.has(needed)) throw new Error(`message template lost its ${needed} slot`);
  return compile(pieces);
}

const testNotice = "TEST SEND: this is a test copy for staff, not the issue as sent to readers.";

/** The rendition of a test send: a banner first in the HTML body and a line first in the text. */
export function withTestBanner(rendition: Rendition): Rendition {
  const banner =
    `<div role="note" style="background:#b00020;color:#ffffff;font:bold 15px/1.4 sans-serif;` +
    `padding:12px 16px;text-align:center">${testNotice}</div>`;
  const body = /<body[^>]*>/i.exec(rendition.html);
  const html = body
    ? `${rendition.html.slice(0, body.index + body[0].length)}${banner}${rendition.html.slice(body.index + body[0].length)}`
    : `${banner}${rendition.html}`;
  return { html, text: `*** ${testNotice} ***\n\n${rendition.text}` };
}

/** The List-* headers of a message to readers (RFC 2369, 2919, 8058): the unsubscribe URLs are slots. */
function listHeaders(identity: MailIdentity): Record<string, PreparedHeader> {
  return prepared({
    "List-Unsubscribe": `<${marker.unsubscribeUrl}>, <${marker.unsubscribeMailto}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-Id": listId(identity),
    "List-Archive": `<${identity.publicUrl}/>`,
  });
}

interface PreparedHeader {
  prepared: true;
  value: string;
}

/**
 * Marks header values as already encoded so nodemailer does not Q-encode List-Id and friends into
 * something list-aware clients cannot read. Only for values built from our settings; one that is
 * not a single line of printable ASCII is refused outright, never escaped.
 */
export function prepared(headers: Record<string, string>): Record<string, PreparedHeader> {
  const out: Record<string, PreparedHeader> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!headerSafe.test(value)) throw new Error(`header ${name} has a character it cannot carry`);
    out[name] = { prepared: true, value };
  }
  return out;
}

/** Flattens the pieces into one static buffer plus slot offsets, so a splice is a few memcpy calls. */
function compile(pieces: Piece[]): MessageTemplate {
  const used: SlotName[] = [];
  const slots: { at: number; value: number }[] = [];
  const runs: Buffer[] = [];
  let at = 0;
  for (const piece of pieces) {
    if (typeof piece !== "string") {
      runs.push(piece);
      at += piece.length;
      continue;
    }
    let value = used.indexOf(piece);
    if (value === -1) value = used.push(piece) - 1;
    slots.push({ at, value });
  }
  return { bytes: Buffer.concat(runs, at), slots, used, plainLines: runs.every((r) => isClean(r)) };
}

const plainText = (text: string) => !/\r(?!\n)|(?<!\r)\n|\n\./.test(text);

const placeholderPattern = new RegExp(
  Object.values(placeholders)
    .map((p) => escapeRegExp(p))
    .join("|"),
  "g",
);
const trackedPlaceholderPattern = new RegExp(
  `${placeholderPattern.source}|${trackingPlaceholderPattern.source}`,
  "g",
);
const placeholderName = new Map<string, keyof typeof placeholders>(
  Object.entries(placeholders).map(([name, token]) => [token, name as keyof typeof placeholders]),
);

function bodyPieces(part: "text" | "html", body: string, tracked: boolean): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  const crlf = body.replace(/\r?\n/g, "\r\n");
  for (const match of crlf.matchAll(tracked ? trackedPlaceholderPattern : placeholderPattern)) {
    pieces.push(Buffer.from(`${encodeQp(crlf.slice(last, match.index))}=\r\n`, "ascii"));
    const linkNo = match[1];
    pieces.push(
      linkNo !== undefined
        ? `${part}:link:${Number(linkNo)}`
        : match[0].startsWith("{{digest_open")
          ? `${part}:open`
          : `${part}:${placeholderName.get(match[0]) ?? "email"}`,
    );
    pieces.push(Buffer.from("=\r\n", "ascii"));
    last = match.index + match[0].length;
  }
  pieces.push(Buffer.from(encodeQp(crlf.slice(last)), "ascii"));
  return pieces;
}

const encodeQp = (text: string) => (text === "" ? "" : qpWrap(qpEncode(text), 76));

const headerSlots = new Set<SlotName>(["messageId", "unsubscribeUrl", "unsubscribeMailto"]);
/** A header value must be one line of printable ASCII: anything else is refused, never escaped. */
const headerSafe = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** Encodes a value for a body slot: printable ASCII needs only `=` escaped, then 76-column lines. */
function slotValue(part: "text" | "html", value: string): string {
  const text = part === "html" ? escapeHtml(value) : value;
  const encoded = /^[\x21-\x3c\x3e-\x7e]*$/.test(text)
    ? text
    : /^[\x20-\x7e]*$/.test(text) && !/ $/.test(text)
      ? text.replace(/=/g, "=3D")
      : qpEncode(text);
  return encoded.length > 76 ? wrapLine(encoded) : encoded;
}

/** Soft line breaks every 75 characters, never inside an `=XX` escapeAt (qp.wrap is 10x slower). */
function wrapLine(encoded: string): string {
  let out = "";
  let start = 0;
  while (encoded.length - start > 76) {
    let end = start + 75;
    const escapeAt = encoded.lastIndexOf("=", end - 1);
    if (escapeAt > start && escapeAt >= end - 2) end = escapeAt;
    out += `${encoded.slice(start, end)}=\r\n`;
    start = end;
  }
  return out + encoded.slice(start);
}

/**
 * Message buffers reused across readers. A fresh 20 KB ArrayBuffer per reader is external memory
 * that V8 only collects once tens of MB of it have piled up (a third of a worker's RSS, measured);
 * a buffer handed back after the server's 250 is written over by a later reader instead.
 */
export interface MessageBuffers {
  take(size: number): Buffer;
  /** Only for a message SMTP is done with: nothing may read it afterwards. */
  give(message: Buffer): void;
}

export function messageBuffers(keep = 512): MessageBuffers {
  const free: Buffer[] = [];
  // Buffers out with a message: a buffer comes back at most once, and only one of ours. Weak, so a
  // buffer never given back (its message failed) is simply collected.
  const lent = new WeakSet<ArrayBufferLike>();
  return {
    take(size) {
      let whole = free.pop();
      if (!whole || whole.length < size) whole = Buffer.allocUnsafeSlow(size + 2048);
      lent.add(whole.buffer);
      return whole.subarray(0, size);
    },
    give(message) {
      if (!lent.delete(message.buffer)) return;
      if (free.length < keep) free.push(Buffer.from(message.buffer, 0, message.buffer.byteLength));
    },
  };
}

/** One reader's complete message. Throws when a value could break out of its header. */
export function spliceMessage(
  template: MessageTemplate,
  reader: ReaderParts,
  buffers?: MessageBuffers,
): Buffer {
  return splice(template, reader, buffers).raw;
}

/**
 * As spliceMessage, and says whether the bytes may go to DATA as they are: checking the reader's
 * few short values here spares the SMTP session a scan of every line of 20 KB per message.
 */
export function splice(template: MessageTemplate, reader: ReaderParts, buffers?: MessageBuffers): Spliced {
  // A link is in both parts: its token is signed once per reader, not once per slot.
  const tracked = new Map<number, string>();
  if (!isSendableAddress(reader.email)) throw new Error(`address cannot be carried in a header`);
  for (const slot of template.used)
    if (headerSlots.has(slot) && !headerSafe.test(reader[slot as "messageId"]))
      throw new Error("a header value has a character it cannot carry");
  // Every value is ASCII by now (header values checked above, body values quoted-printable), so a
  // string's length is its byte count and latin1 writes it without an intermediate Buffer.
  const values = template.used.map((slot) => slotText(slot, reader, tracked));
  const { bytes, slots } = template;
  let size = bytes.length;
  for (const slot of slots) size += (values[slot.value] as string).length;
  const out = buffers ? buffers.take(size) : Buffer.allocUnsafe(size);
  let from = 0;
  let to = 0;
  for (const slot of slots) {
    to += bytes.copy(out, to, from, slot.at);
    to += out.write(values[slot.value] as string, to, "latin1");
    from = slot.at;
  }
  bytes.copy(out, to, from);
  return {
    raw: out,
    dataReady: template.plainLines && values.every((v) => v.charCodeAt(0) !== 0x2e && plainText(v)),
    parts: { template, values },
  };
}

function slotText(slot: SlotName, reader: ReaderParts, tracked: Map<number, string>): string {
  switch (slot) {
    case "to":
      return reader.email;
    case "messageId":
      return reader.messageId;
    case "unsubscribeUrl":
      return reader.unsubscribeUrl;
    case "unsubscribeMailto":
      return reader.unsubscribeMailto;
  }
  const [part, name, linkNo] = slot.split(":") as [
    "text" | "html",
    keyof typeof placeholders | "link" | "open",
    string?,
  ];
  if (name === "link" || name === "open") {
    if (!reader.tracking) throw new Error("a tracked message needs the reader's tracking links");
    if (name === "open") return slotValue(part, reader.tracking.open());
    const no = Number(linkNo);
    let url = tracked.get(no);
    if (url === undefined) {
      url = reader.tracking.link(no);
      tracked.set(no, url);
    }
    return slotValue(part, url);
  }
  return slotValue(part, name === "email" ? reader.email : reader[name]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

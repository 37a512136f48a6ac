/**
 * Human-readable bounces (Postfix, Exim, Sendmail, qmail, Exchange, Gmail, ... and servers we have
 * never seen): find the failed addresses in the text and the server's words near each of them.
 * Built on general shapes ("<addr>: host X said: 550 ...", "addr\n  SMTP error ...: 550 ...",
 * ">>> RCPT TO:<addr>\n<<< 550 ..."), not on any one server's wording.
 */
import { enhancedCodes } from "./classify.js";
import { addressesIn, atTokens, isSpace, oneLine, trimEnd } from "./fields.js";

export interface TextRecipient {
  address: string;
  status: string;
  /** The lines around the address: the server's words about it. */
  diagnostic: string;
}

// A separator line before the returned original message, e.g. "------ This is a copy of the message,
// including all the headers. ------", "--- Below this line is a copy of the message.": a rule of
// two or more dashes, then a word for the message, then later a word for how it comes.
const RULE = /^[ \t]*[-=*_]{2}/;
const SEPARATOR_WORDS: readonly (readonly [RegExp, RegExp])[] = [
  [
    /\b(?:message|headers?|mail|text)\b/gi,
    /\b(?:follows?|below|original|returned|copy|unsent|undelivered|attached|included)\b/gi,
  ],
  [/\b(?:original|returned|unsent|undelivered)\b/gi, /\b(?:message|mail|headers?)\b/gi],
];
const ORIGINAL_TITLE =
  /^[ \t]*(?:original message|returned message|unsent message|undelivered message|original message headers)(?: follows)?(?:[ \t]*:)?[ \t]*[-=]*$/i;
const ORIGINAL_HEADER =
  /^(?:content-type:[ \t]*(?:message\/rfc822|text\/rfc822-headers)|(?:return-path|received|dkim-signature|x-received):[ \t])/i;

// One pattern per line, each linear in it: a single `^...\b(words)\b.*\b(words)\b.*$` over the
// whole text retried every split of a long line between its two `.*`.
function startsOriginal(line: string): boolean {
  if (ORIGINAL_HEADER.test(line) || ORIGINAL_TITLE.test(trimEnd(line, BLANKS))) return true;
  const rule = RULE.exec(line);
  if (!rule) return false;
  return SEPARATOR_WORDS.some(([first, then]) => {
    first.lastIndex = rule[0].length;
    if (!first.exec(line)) return false;
    then.lastIndex = first.lastIndex;
    return then.test(line);
  });
}

const BLANKS = new Set(" \t");
// What a pattern's `^` and `$` take for line ends.
const LINE_END = /[\n\r\u2028\u2029]/g;

/** The report text without the returned original message. */
export function reportText(text: string): string {
  let start = 0;
  for (;;) {
    LINE_END.lastIndex = start;
    const end = LINE_END.exec(text)?.index ?? text.length;
    if (startsOriginal(text.slice(start, end))) return text.slice(0, start);
    if (end >= text.length) return text;
    start = end + 1;
  }
}

// Addresses that are never the failed recipient: the transcript's own sender, postmasters.
const NOT_RECIPIENT = /^(?:mailer-daemon|postmaster|abuse|double-bounce)@/i;
const SENDER_LABELS = [
  "mail from",
  "envelope-from",
  "sender",
  "from",
  "reply-to",
  "return-path",
  "message-id",
  "references",
];

/**
 * Whether the text before an address ends in a sender's label ("MAIL FROM:<", "Reply-To: "):
 * `/(?:mail from|...)[ \t]*[:=][ \t]*<?$/i` read backwards from the end, so its cost does not grow
 * with the line (it is asked once per address on the line).
 */
function afterSenderLabel(before: string): boolean {
  let end = before.endsWith("<") ? before.length - 1 : before.length;
  while (end > 0 && BLANKS.has(before.charAt(end - 1))) end--;
  if (end === 0 || !"=:".includes(before.charAt(end - 1))) return false;
  end--;
  while (end > 0 && BLANKS.has(before.charAt(end - 1))) end--;
  const tail = before.slice(Math.max(0, end - 16), end).toLowerCase();
  return SENDER_LABELS.some((label) => tail.endsWith(label));
}

// What separates addresses in a line of text: the `[^\s<>()"'[\]:;,]` of the shape `x@y`.
const NOT_IN_ADDRESS = new Set([..."<>()\"'[]:;,"].map((c) => c.charCodeAt(0)));
const addressSeparator = (code: number) => isSpace(code) || NOT_IN_ADDRESS.has(code);

/**
 * Bounds on what the recipients found in a text cost: the addresses read (a report names a few),
 * the mentions of each that make up its window, and the window's length.
 */
const MAX_CANDIDATES = 50;
const MAX_MENTIONS = 10;
const MAX_WINDOW = 16 * 1024;

/** Candidate failed recipients in the report text, with the words near each. */
export function textRecipients(text: string, exclude: ReadonlySet<string>): TextRecipient[] {
  const lines = text.split("\n");
  const found = new Map<string, number[]>();
  const names = new Map<string, string>();
  lines.forEach((line, i) => {
    if (/^[ \t]*(?:message-id|in-reply-to|references|from|sender|return-path|reply-to)[ \t]*:/i.test(line))
      return;
    for (const m of atTokens(line, addressSeparator)) {
      const address = addressesIn(m.token)[0];
      if (!address || NOT_RECIPIENT.test(address) || exclude.has(address.toLowerCase())) continue;
      if (afterSenderLabel(line.slice(0, m.index))) continue;
      if (/^[0-9a-f.$-]{12,}@/i.test(address)) continue; // message or queue ids, not mailboxes
      const key = address.toLowerCase();
      const at = found.get(key) ?? [];
      if (!found.has(key)) {
        if (found.size >= MAX_CANDIDATES) continue;
        found.set(key, at);
      }
      if (at.length < MAX_MENTIONS) at.push(i);
      if (!names.has(key)) names.set(key, address);
    }
  });
  const keys = [...found.keys()];
  // Which candidates each line names, worked out once per line however many windows read it.
  const named = new Map<number, string[]>();
  const mentionsOther = (i: number, key: string) => {
    let here = named.get(i);
    if (!here) {
      const line = (lines[i] ?? "").toLowerCase();
      here = keys.filter((k) => line.includes(k));
      named.set(i, here);
    }
    return here.some((k) => k !== key);
  };
  return keys.map((key) => {
    const window = (found.get(key) ?? [])
      .map((i) => around(lines, i, (j) => mentionsOther(j, key)))
      .join("\n")
      .slice(0, MAX_WINDOW);
    return { address: names.get(key) ?? key, status: enhancedCodes(window)[0] ?? "", diagnostic: window };
  });
}

// The paragraph holding the address, and the next one when the address stands alone on its line
// (Gmail, Exchange: "addr\n\nTechnical details ..."). Stops at a line naming another recipient.
function around(lines: string[], index: number, mentionsOther: (line: number) => boolean): string {
  const out: string[] = [];
  let start = index;
  while (start > 0 && start > index - 3 && lines[start - 1]?.trim() && !mentionsOther(start - 1)) {
    // A line ending in ":" just above introduces this address's answer ("... said:").
    if (!/:\s*$/.test(lines[start - 1] ?? "") && !/^\s*(?:<<<|>>>|\d{3}[ -])/.test(lines[start - 1] ?? ""))
      break;
    start--;
    // Sendmail's "While talking to host:" opens one host's transcript; the answers above it came
    // from another host (a "421 ... try again" there must not make this one temporary).
    if (/^\s*while talking to\b/i.test(lines[start] ?? "")) break;
  }
  let blanks = 0;
  const alone = lines[index]?.replace(/[<>]/g, "").trim().split(/\s+/).length === 1;
  for (let i = start; i < lines.length && out.length < 14; i++) {
    const line = lines[i] ?? "";
    if (i > index && mentionsOther(i)) break;
    // A new single-line SMTP answer after the one already held belongs to someone else.
    if (i > index && REPLY_START.test(line) && out.some((l) => REPLY_ANYWHERE.test(l))) break;
    if (!line.trim()) {
      blanks++;
      if (blanks > (alone ? 2 : 0) || (alone && out.length > 2)) break;
      continue;
    }
    out.push(line);
  }
  return out.join("\n");
}

const REPLY_START = /^\s*(?:<<<\s*)?[245]\d\d /;
const REPLY_ANYWHERE = /(?:^|[\s(:])[245]\d\d[ -]/;

/** A one-line diagnostic: the line with an SMTP reply if any, else the window. */
export function diagnosticLine(window: string): string {
  const flat = oneLine(window, 2000);
  const m = /(?:^|\s)([245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3})?.*)$/.exec(flat);
  return oneLine(m?.[1] ?? flat);
}

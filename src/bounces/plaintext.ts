/**
 * Human-readable bounces (Postfix, Exim, Sendmail, qmail, Exchange, Gmail, ... and servers we have
 * never seen): find the failed addresses in the text and the server's words near each of them.
 * Built on general shapes ("<addr>: host X said: 550 ...", "addr\n  SMTP error ...: 550 ...",
 * ">>> RCPT TO:<addr>\n<<< 550 ..."), not on any one server's wording.
 */
import { enhancedCodes } from "./classify.js";
import { addressesIn, oneLine } from "./fields.js";

export interface TextRecipient {
  address: string;
  status: string;
  /** The lines around the address: the server's words about it. */
  diagnostic: string;
}

// A separator before the returned original message, e.g. "------ This is a copy of the message,
// including all the headers. ------", "--- Below this line is a copy of the message.".
const ORIGINAL_STARTS = new RegExp(
  [
    String.raw`^[ \t]*[-=*_]{2,}.*\b(?:message|headers?|mail|text)\b.*\b(?:follows?|below|original|returned|copy|unsent|undelivered|attached|included)\b.*$`,
    String.raw`^[ \t]*[-=*_]{2,}.*\b(?:original|returned|unsent|undelivered)\b.*\b(?:message|mail|headers?)\b.*$`,
    String.raw`^[ \t]*(?:original message|returned message|unsent message|undelivered message|original message headers)(?: follows)?[ \t]*:?[ \t]*[-=]*[ \t]*$`,
    String.raw`^content-type:[ \t]*(?:message/rfc822|text/rfc822-headers)`,
    String.raw`^(?:return-path|received|dkim-signature|x-received):[ \t]`,
  ].join("|"),
  "im",
);

/** The report text without the returned original message. */
export function reportText(text: string): string {
  const m = ORIGINAL_STARTS.exec(text);
  return m ? text.slice(0, m.index) : text;
}

// Addresses that are never the failed recipient: the transcript's own sender, postmasters.
const NOT_RECIPIENT = /^(?:mailer-daemon|postmaster|abuse|double-bounce)@/i;
const SENDER_CONTEXT =
  /(?:mail from|envelope-from|sender|from|reply-to|return-path|message-id|references)[ \t]*[:=][ \t]*<?$/i;

/** Candidate failed recipients in the report text, with the words near each. */
export function textRecipients(text: string, exclude: ReadonlySet<string>): TextRecipient[] {
  const lines = text.split("\n");
  const found = new Map<string, number[]>();
  const names = new Map<string, string>();
  lines.forEach((line, i) => {
    if (/^[ \t]*(?:message-id|in-reply-to|references|from|sender|return-path|reply-to)[ \t]*:/i.test(line))
      return;
    for (const m of line.matchAll(/[^\s<>()"'[\]:;,]+@[^\s<>()"'[\]:;,]+/g)) {
      const address = addressesIn(m[0])[0];
      if (!address || NOT_RECIPIENT.test(address) || exclude.has(address.toLowerCase())) continue;
      if (SENDER_CONTEXT.test(line.slice(0, m.index))) continue;
      if (/^[0-9a-f.$-]{12,}@/i.test(address)) continue; // message or queue ids, not mailboxes
      const key = address.toLowerCase();
      const at = found.get(key) ?? [];
      if (!found.has(key)) found.set(key, at);
      at.push(i);
      if (!names.has(key)) names.set(key, address);
    }
  });
  const keys = [...found.keys()];
  return keys.map((key) => {
    const others = keys.filter((k) => k !== key);
    const window = (found.get(key) ?? []).map((i) => around(lines, i, others)).join("\n");
    return { address: names.get(key) ?? key, status: enhancedCodes(window)[0] ?? "", diagnostic: window };
  });
}

// The paragraph holding the address, and the next one when the address stands alone on its line
// (Gmail, Exchange: "addr\n\nTechnical details ..."). Stops at a line naming another recipient.
function around(lines: string[], index: number, others: string[]): string {
  const out: string[] = [];
  const mentionsOther = (line: string) => others.some((o) => line.toLowerCase().includes(o));
  let start = index;
  while (
    start > 0 &&
    start > index - 3 &&
    lines[start - 1]?.trim() &&
    !mentionsOther(lines[start - 1] ?? "")
  ) {
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
    if (i > index && mentionsOther(line)) break;
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

/**
 * RFC 3464 delivery-status fields, wherever they are found: a message/delivery-status part, or the
 * same fields pasted into a text part by servers that do not build a multipart/report.
 */
import { addressOf, field, paragraphs, parseFields, stripTypePrefix } from "./fields.js";

export interface DsnRecipient {
  address: string;
  status: string;
  action: string;
  diagnostic: string;
}

const RECIPIENT_FIELD = /^(?:final-recipient|original-recipient|x-actual-recipient)[ \t]*:/im;

/** Every per-recipient block in the text that names a recipient, in order. */
export function dsnRecipients(text: string): DsnRecipient[] {
  const found: DsnRecipient[] = [];
  for (const block of recipientBlocks(text)) {
    const fields = parseFields(block);
    const address =
      addressOf(field(fields, "original-recipient")) ||
      addressOf(field(fields, "final-recipient")) ||
      addressOf(field(fields, "x-actual-recipient"));
    if (!address) continue;
    const status = /([245])\.(\d{1,3})\.(\d{1,3})/.exec(field(fields, "status"));
    found.push({
      address,
      status: status ? `${status[1]}.${Number(status[2])}.${Number(status[3])}` : "",
      action: (field(fields, "action")
        .toLowerCase()
        .match(/[a-z]+/) ?? [""])[0],
      diagnostic: stripTypePrefix(field(fields, "diagnostic-code")),
    });
  }
  return found;
}

// Recipient blocks are meant to be separated by blank lines, but some servers run them together:
// a new Final-Recipient (or an Original-Recipient following a complete block) starts a new block.
function recipientBlocks(text: string): string[] {
  const blocks: string[] = [];
  for (const para of paragraphs(text)) {
    if (!RECIPIENT_FIELD.test(para)) continue;
    let current: string[] = [];
    let seen = new Set<string>();
    for (const line of para.split("\n")) {
      const name = /^([A-Za-z-]+)[ \t]*:/.exec(line)?.[1]?.toLowerCase();
      const starts =
        (name === "final-recipient" && seen.has("final-recipient")) ||
        (name === "original-recipient" && (seen.has("original-recipient") || seen.has("action")));
      if (starts && current.length) {
        blocks.push(current.join("\n"));
        current = [];
        seen = new Set();
      }
      if (name) seen.add(name);
      current.push(line);
    }
    if (current.length) blocks.push(current.join("\n"));
  }
  return blocks;
}

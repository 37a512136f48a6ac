/**
 * Reads a mailed command: the subject, or the first line of the body that is not quoted. Only that
 * one line counts (Mailman's old bug: a quoted "unsubscribe" deep in a reply was obeyed).
 */
import { trimEnd } from "../bounces/fields.js";

const FINAL_PUNCTUATION = new Set(".!");

export type MailCommand = "subscribe" | "unsubscribe";

export function readCommand(subject: string | undefined, text: string | undefined): MailCommand | undefined {
  const fromSubject = asCommand(subject ?? "");
  if (fromSubject) return fromSubject;
  for (const line of (text ?? "").split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    if (trimmed.startsWith(">")) continue;
    return asCommand(trimmed);
  }
  return undefined;
}

function asCommand(line: string): MailCommand | undefined {
  const word = trimEnd(line.trim().replace(/^(re|fwd?|aw|sv):\s*/i, ""), FINAL_PUNCTUATION).toLowerCase();
  return word === "subscribe" || word === "unsubscribe" ? word : undefined;
}

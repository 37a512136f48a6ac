/**
 * The single entry point: any bounce, complaint or auto-reply message becomes one `Bounce`.
 * Order of trust: a JSON notification, an ARF report, RFC 3464 delivery-status fields, then the
 * human-readable text. Parsers only describe the report; policy runs elsewhere.
 */
import { createRequire } from "node:module";
import type { ParsedMail } from "mailparser";
import { autoReplySign } from "./auto-reply.js";
import type { Bounce, BounceRecipient } from "./bounce.js";
import { classifyReason, type FailureClass, FULL, LOCAL_DELIVERY_FAILED, lastCommand } from "./classify.js";
import { addressesOfHeader, inlineFeedbackReport, parseFeedbackReport } from "./complaint.js";
import { dsnRecipients } from "./dsn.js";
import { boundedText, decodeText, normalizeRaw, oneLine, TEXT_LIMITS } from "./fields.js";
import { parseJsonNotification } from "./notification.js";
import { diagnosticLine, reportText, textRecipients } from "./plaintext.js";
import { mostSevere } from "./severity.js";

/**
 * mailparser through its CommonJS build: imported as ESM, each of its dozen CommonJS dependencies
 * is first scanned for its export names, which took about a third of `digest bounce FILE`.
 */
const { simpleParser } = createRequire(import.meta.url)("mailparser") as typeof import("mailparser");

const NOTHING: Bounce = { type: "none", recipients: [] };

/**
 * The bytes of a message the parser reads: a report's parts (the notice, the delivery-status, the
 * headers of the returned message) come first, and a larger message is a returned attachment or an
 * attack. MIME parsing of a 10 MB message of short lines alone took seconds.
 */
export const PARSED_BYTES = 1024 * 1024;

/** Parses a bounce or complaint. Never throws: garbage is `{ type: "none", recipients: [] }`. */
export async function parseBounce(raw: Buffer | string): Promise<Bounce> {
  try {
    return await parse(normalizeRaw(raw));
  } catch {
    return { ...NOTHING, recipients: [] };
  }
}

interface Message {
  headers: Map<string, string>;
  subject: string;
  body: string;
  /** Everything after the top-level header block, undecoded: the fallback for broken MIME. */
  rawBody: string;
  deliveryStatus: string[];
  feedbackReports: string[];
  /** Returned original message or its headers (message/rfc822, text/rfc822-headers). */
  original: string;
}

async function parse(buf: Buffer, depth = 0): Promise<Bounce> {
  const message = await read(buf);
  const first = analyze(message);
  if (first.source !== "guess") return first.bounce;
  // A broken MIME structure (a boundary that never occurs) hides the report from the parser:
  // read the raw body as text instead.
  const raw = analyze({ ...message, body: message.rawBody, deliveryStatus: [], feedbackReports: [] });
  if (raw.source !== "guess") return raw.bounce;
  // Some gateways wrap the real bounce as an attachment of their own notice.
  if (depth < 2 && message.original && looksLikeBounceHeaders(message.original)) {
    const inner = await parse(Buffer.from(message.original, "utf8"), depth + 1);
    if (inner.recipients.length) return inner;
  }
  return first.bounce;
}

/** How a result was found: "guess" when no report named a recipient (or nothing was found). */
type Source = "report" | "guess";

function analyze(message: Message): { bounce: Bounce; source: Source } {
  const { headers } = message;
  const body = boundedText(message.body);
  const report = reportText(body);
  const original = boundedText(message.original || body.slice(report.length));
  const idMatch = /^Message-ID[ \t]*:[ \t]*<?([^<>\s]+@[^<>\s]+)>?/im.exec(original);
  const originalMessageId = idMatch ? `<${idMatch[1]}>` : undefined;
  const originalTo = addressesOfHeader(headerIn(original, "to") ?? headerIn(body, "to"));
  const withId = (bounce: Bounce): Bounce =>
    originalMessageId && !bounce.originalMessageId ? { ...bounce, originalMessageId } : bounce;

  // A JSON notification is often one long line: it gets the first 256 KB, lines uncut.
  const json = parseJsonNotification(message.body.slice(0, TEXT_LIMITS.chars));
  if (json) return { bounce: withId(json), source: "report" };

  const contentType = headers.get("content-type") ?? "";
  const feedbackPart = message.feedbackReports[0];
  const feedback = feedbackPart === undefined ? inlineFeedbackReport(report) : boundedText(feedbackPart);
  if (feedback || /report-type\s*=\s*"?feedback-report/i.test(contentType)) {
    const complaint = parseFeedbackReport(feedback ?? "", originalTo);
    return { bounce: withId({ type: "complaint", ...complaint }), source: "report" };
  }

  const exclude = new Set(
    ["from", "to", "return-path", "reply-to", "delivered-to", "x-original-to", "sender"]
      .flatMap((name) => addressesOfHeader(headers.get(name)))
      .concat(
        ["from", "sender", "return-path", "reply-to"].flatMap((n) =>
          addressesOfHeader(headerIn(original, n)),
        ),
      )
      .map((a) => a.toLowerCase()),
  );
  const inText = textRecipients(report, exclude);
  const windowOf = (address: string) =>
    inText.find((r) => r.address.toLowerCase() === address.toLowerCase())?.diagnostic ?? "";

  const dsn = firstPerAddress(dsnRecipients(boundedText([...message.deliveryStatus, report].join("\n\n"))));
  if (dsn.length) {
    const single = dsn.length === 1;
    const recipients = dsn.map((r): BounceRecipient => {
      if (/^(?:delayed|delivered|relayed|expanded)$/.test(r.action) || r.status.startsWith("2")) {
        return { ...r, diagnostic: oneLine(r.diagnostic), type: "none", reason: r.action || "delivered" };
      }
      const window = windowOf(r.address);
      const result = classifyWithContext(
        r.status,
        [r.diagnostic, window, single ? report : ""],
        r.action === "failed",
      );
      return {
        ...r,
        action: r.action || "failed",
        diagnostic: oneLine(r.diagnostic || diagnosticLine(window)),
        ...result,
      };
    });
    return { bounce: withId({ type: mostSevere(recipients), recipients }), source: "report" };
  }

  if (isAutoReply(message)) {
    const from = addressesOfHeader(headers.get("from"))[0];
    const recipients: BounceRecipient[] = from
      ? [
          {
            address: from,
            status: "",
            action: "",
            diagnostic: oneLine(message.subject),
            type: "none",
            reason: "auto_reply",
          },
        ]
      : [];
    return { bounce: withId({ type: "none", recipients }), source: "report" };
  }

  if (!looksLikeBounce(message, report))
    return { bounce: withId({ ...NOTHING, recipients: [] }), source: "guess" };

  const found = inText.length
    ? inText
    : originalTo.slice(0, 1).map((address) => ({ address, status: "", diagnostic: "" }));
  const delayed = isDelayNotice(message.subject, report);
  const recipients = found.map((r): BounceRecipient => {
    const diagnostic = diagnosticLine(r.diagnostic || report);
    if (delayed)
      return {
        address: r.address,
        status: r.status,
        action: "delayed",
        diagnostic,
        type: "none",
        reason: "delayed",
      };
    const result = classifyWithContext(r.status, [r.diagnostic, found.length === 1 ? report : ""]);
    return { address: r.address, status: r.status, action: "failed", diagnostic, ...result };
  });
  return {
    bounce: withId({ type: mostSevere(recipients), recipients }),
    source: inText.length ? "report" : "guess",
  };
}

// mailparser may show a delivery-status part both inline and as a part: keep each address once.
function firstPerAddress<T extends { address: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.address.toLowerCase()) && seen.add(r.address.toLowerCase()));
}

// Reads the closest words first; wider text only when those words name no reason.
function classifyWithContext(status: string, texts: string[], final = false): FailureClass {
  // The SMTP stage may be told only in the human-readable part ("in reply to end of DATA command")
  // while the Diagnostic-Code quotes the answer alone. The widest text is read first: a
  // recipient's window of lines is an excerpt, a transcript cut apart.
  const stage =
    [...texts]
      .reverse()
      .map(lastCommand)
      .find((c) => c !== "") ?? "";
  const command = { ...(stage ? { command: stage } : {}), ...(final ? { final } : {}) };
  let result: FailureClass = classifyReason({ status, diagnostic: "", ...command });
  let context = "";
  for (const text of texts) {
    if (!text.trim()) continue;
    context = context ? `${context}\n${text}` : text;
    result = classifyReason({ status, diagnostic: context, ...command });
    if (!WEAK.has(result.reason)) break;
  }
  // "User unknown" beside the report's own statement that the account is disabled is about a
  // mailbox that exists (some carriers answer so for suspended accounts): never hard.
  if (result.type === "hard" && result.reason === "user_unknown" && DISABLED.test(texts.join("\n")))
    return { type: "soft", reason: "mailbox_disabled" };
  // Likewise a report whose own words say the mailbox is full ("Not enough disk space") is about a
  // mailbox that exists, whatever code the receiving server quoted: suppressing is the worse error.
  if (result.type === "hard" && FULL.test(texts.join("\n"))) return { type: "soft", reason: "mailbox_full" };
  // A local delivery agent's file error in the report ("procmail: Couldn't create") is the
  // receiving system failing to write a mailbox that exists, whatever exit code it was mapped to.
  if (result.type === "hard" && LOCAL_DELIVERY_FAILED.test(texts.join("\n")))
    return { type: "soft", reason: "system" };
  return result;
}

const DISABLED =
  /\baccount (?:is |has been |was )?(?:disabled|suspended|deactivated|inactive|locked)|(?:disabled|suspended|deactivated|inactive) account/i;

const WEAK = new Set(["other", "temporary", "filtered"]);

async function read(whole: Buffer): Promise<Message> {
  const buf = whole.subarray(0, PARSED_BYTES);
  let mail: ParsedMail | undefined;
  try {
    mail = await simpleParser(buf, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  } catch {
    mail = undefined;
  }
  const rawText = decodeText(buf);
  const headerBlock = rawText.split(/\n\n/, 1)[0] ?? "";
  const headers = new Map<string, string>();
  for (const name of [
    "content-type",
    "from",
    "to",
    "subject",
    "return-path",
    "reply-to",
    "delivered-to",
    "x-original-to",
    "sender",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "precedence",
    "x-ms-exchange-inbox-rules-loop",
    "x-autogenerated",
    "x-apple-action",
  ]) {
    const value = headerIn(headerBlock, name);
    if (value !== undefined) headers.set(name, value);
  }
  const message: Message = {
    headers,
    subject: mail?.subject ?? headers.get("subject") ?? "",
    body: mail?.text?.trim() ? mail.text : rawText.slice(headerBlock.length),
    rawBody: rawText.slice(headerBlock.length),
    deliveryStatus: [],
    feedbackReports: [],
    original: "",
  };
  for (const part of mail?.attachments ?? []) {
    const type = part.contentType.toLowerCase();
    const text = decodeText(part.content);
    if (/delivery-status$/.test(type)) message.deliveryStatus.push(text);
    else if (type === "message/feedback-report") message.feedbackReports.push(text);
    else if (/^message\/(?:rfc822|global)$|rfc822-headers$/.test(type)) message.original ||= text;
    else if (type.startsWith("text/")) message.body += `\n\n${text}`;
  }
  // mailparser shows an inline message/rfc822 part as text and drops most of its headers.
  message.original ||= rawOriginal(rawText);
  return message;
}

/**
 * The returned original message as it stands in the raw MIME, after its part headers: the text
 * after the blank line that ends a header block holding a `Content-Type: message/rfc822` (or
 * `message/global`, `text/rfc822-headers`) line. One pass over the lines: a pattern that retried
 * the rest of the block from every such line was quadratic in a message made of them.
 */
function rawOriginal(rawText: string): string {
  let inBlock = false;
  for (let pos = 0; pos < rawText.length; ) {
    const newline = rawText.indexOf("\n", pos);
    if (newline < 0) return "";
    const line = rawText.slice(pos, newline);
    pos = newline + 1;
    // Line breaks other than LF end a header line (a CRLF message has none of these blocks).
    const clean = !/[\r\u2028\u2029]/.test(line);
    if (inBlock) {
      if (line === "") return rawText.slice(pos);
      if (clean && (/^[ \t]/.test(line) || HEADER_LINE.test(line))) continue;
      inBlock = false;
    }
    if (clean && ORIGINAL_TYPE.test(line)) inBlock = true;
  }
  return "";
}

const HEADER_LINE = /^[A-Za-z-]+:/;
const ORIGINAL_TYPE = /^Content-Type:[ \t]*(?:message\/(?:rfc822|global)|text\/rfc822-headers)\b/i;

function looksLikeBounceHeaders(text: string): boolean {
  const block = text.split(/\n\n/, 1)[0] ?? "";
  return DAEMON.test(headerIn(block, "from") ?? "") || /report-type\s*=\s*"?delivery-status/i.test(block);
}

/** A header's unfolded value in a header block (first occurrence). */
function headerIn(block: string, name: string): string | undefined {
  const escaped = name.replace(/[-]/g, "\\-");
  const m = new RegExp(`^${escaped}[ \\t]*:[ \\t]*(.*(?:\\n[ \\t]+.*)*)`, "im").exec(block);
  return m?.[1]?.replace(/\n[ \t]+/g, " ").trim();
}

const DAEMON =
  /mailer-daemon|post_?master|mail delivery|mail administrator|mail system|mailmaster|delivery subsystem/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|delivery (?:status|fail|notification|report)|returned (?:mail|to sender)|failure notice|mail delivery|could not be delivered|not delivered|delivery has failed|rejected|bounce|nondeliverable|non-delivery|unzustellbar|non remis|no entregado|失敗|エラー|error/i;

function looksLikeBounce(message: Message, report: string): boolean {
  const from = message.headers.get("from") ?? "";
  return (
    DAEMON.test(from) ||
    BOUNCE_SUBJECT.test(message.subject) ||
    /report-type\s*=\s*"?delivery-status/i.test(message.headers.get("content-type") ?? "") ||
    /\b[45]\d\d[ -]+[45]\.\d{1,3}\.\d{1,3}\b|\b(?:could not|couldn't|cannot|unable to) (?:be )?deliver/i.test(
      report,
    )
  );
}

function isAutoReply(message: Message): boolean {
  const { headers, subject } = message;
  if (DAEMON.test(headers.get("from") ?? "") || BOUNCE_SUBJECT.test(subject)) return false;
  const values = new Map([...headers].map(([name, value]) => [name, [value]]));
  return autoReplySign(values, subject) !== undefined;
}

function isDelayNotice(subject: string, report: string): boolean {
  return (
    /\bdelay(?:ed)?\b|warning: could not send|still (?:trying|undelivered)|not yet been delivered/i.test(
      subject,
    ) ||
    /warning message only|do not need to resend|will (?:continue to )?(?:re)?try|will be retried|has not yet been delivered/i.test(
      report,
    )
  );
}

import { simpleParser } from "mailparser";
import { readHeaderBlock } from "../bounces/auto-reply.js";
import type { Bounce } from "../bounces/bounce.js";
import { PARSED_BYTES, parseBounce } from "../bounces/parse.js";
import type { MailLanguageHints } from "../i18n/choose.js";
import { scriptLanguage } from "../i18n/script.js";
import { type MailCommand, readCommand } from "./command.js";
import { replyForbidden } from "./loop-safety.js";

/**
 * Everything the inbound side learns from a message's bytes, in one pass that runs off the event
 * loop (read-pool.ts): plain data, so it crosses to and from a worker thread.
 */
export interface ReadRequest {
  /** The message's first bytes (PARSED_BYTES): nothing past them is read. */
  raw: Uint8Array;
  /** Read the message as a bounce or complaint report. */
  report: boolean;
  /** Read who sent it and what it says, for a mailed command: the envelope sender and our domain. */
  facts?: { envelopeFrom: string; domain: string };
}

export interface ReadResult {
  bounce?: Bounce;
  /** The From address, lower-cased. */
  fromAddress?: string;
  /** Why no mail may answer it (loop safety), if so. */
  forbidden?: string;
  /** The command in its subject or first unquoted line. */
  command?: MailCommand;
  /** What the message says about its writer's language, for a `subscribe`. */
  language?: MailLanguageHints;
  /** MIME parsing failed: the facts are what an empty message has. */
  unparseable?: true;
}

export async function readMessage(request: ReadRequest): Promise<ReadResult> {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength).subarray(
    0,
    PARSED_BYTES,
  );
  const result: ReadResult = {};
  if (request.facts) Object.assign(result, await factsOf(raw, request.facts));
  if (request.report) result.bounce = await parseBounce(raw);
  return result;
}

async function factsOf(raw: Buffer, context: { envelopeFrom: string; domain: string }): Promise<ReadResult> {
  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  }).catch(() => undefined);
  const fromAddress = parsed?.from?.value[0]?.address?.toLowerCase();
  // The raw header block, not mailparser's map: it folds every List-* header into one `list` key.
  const headers = readHeaderBlock(raw);
  const subject = parsed?.subject ?? headers.get("subject")?.[0] ?? "";
  const forbidden = replyForbidden(
    { envelopeFrom: context.envelopeFrom, headers, subject, fromAddress },
    context.domain,
  );
  const command = readCommand(parsed?.subject, parsed?.text);
  const script = scriptLanguage(parsed?.text);
  const language: MailLanguageHints = {
    ...firstHeader(headers, "content-language", "contentLanguage"),
    ...firstHeader(headers, "accept-language", "acceptLanguage"),
    ...(script ? { script } : {}),
  };
  return {
    ...(fromAddress ? { fromAddress } : {}),
    language,
    ...(forbidden ? { forbidden } : {}),
    ...(command ? { command } : {}),
    ...(parsed ? {} : { unparseable: true as const }),
  };
}

function firstHeader<K extends string>(
  headers: Map<string, string[]>,
  name: string,
  key: K,
): Partial<Record<K, string>> {
  const value = headers.get(name)?.[0];
  return value ? ({ [key]: value } as Partial<Record<K, string>>) : {};
}

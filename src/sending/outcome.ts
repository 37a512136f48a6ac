import { classifySmtpError, type SmtpFailure } from "../bounces/classify.js";
import { type BackoffSettings, retryDelay } from "./backoff.js";
import { beforeMessage, type SmtpResult } from "./mailer.js";
import { relayMessageId } from "./relay-id.js";
import { isThrottling } from "./throttle-policy.js";

/**
 * A throttled message goes again this soon: it was our pace, not the reader's mailbox, so it gets
 * no growing backoff and no soft-bounce count; the lowered shared rate paces the retry.
 */
export const throttledRetrySeconds = 1;

/**
 * What became of one claimed row, decided once, here: the outcome write stores exactly this status
 * and nothing changes it afterwards. Permanent refusals are `bounced` (the bounce policy then
 * counts them against the reader), except 5.7.x policy refusals, which are about us and are
 * `failed` (retried with `digest retry` once fixed); temporary ones are `deferred` until the
 * horizon, then `failed`.
 */
export interface Outcome {
  id: number;
  status: "sent" | "deferred" | "failed" | "bounced";
  response: string;
  /** Seconds until a deferred row is due again. */
  delay: number | null;
  /** The relay's id for the message, from its 250 answer. */
  relayId: string | null;
  /** The connection died or went silent mid-session: the server may hold the message already. */
  ambiguous: boolean;
  /** The classified SMTP refusal, for the bounce policy. */
  failure?: SmtpFailure;
  /** The relay itself cannot be used (TLS, our login): the send pauses with this reason. */
  relayFault?: string;
  /** The relay said we send too fast (its answer): every worker slows down (relay-rate.ts). */
  throttled?: string;
}

export interface AttemptedRow {
  id: number;
  attempts: number;
}

export function sentOutcome(row: AttemptedRow, result: SmtpResult): Outcome {
  const response = result.response.slice(0, 500);
  return {
    id: row.id,
    status: "sent",
    response,
    delay: null,
    relayId: relayMessageId(response) ?? null,
    ambiguous: false,
  };
}

/** A message that could not even be built (a value that cannot be carried): nothing was sent. */
export function unbuiltOutcome(row: AttemptedRow, error: unknown): Outcome {
  const response = `not sent: ${(error as Error).message}`;
  return { id: row.id, status: "failed", response, delay: null, relayId: null, ambiguous: false };
}

export function failedOutcome(
  row: AttemptedRow,
  error: unknown,
  backoff: BackoffSettings,
  sendStartedAt: number,
): Outcome {
  const fault = relayFault(error);
  if (fault) {
    // Nothing about this reader: the row waits (the send pauses), and goes once the relay is fixed.
    const response = `not sent: ${fault}`.slice(0, 500);
    const delay = backoff.retryBaseSeconds;
    return {
      id: row.id,
      status: "deferred",
      response,
      delay,
      relayId: null,
      ambiguous: false,
      relayFault: fault,
    };
  }
  const answer = smtpAnswer(error);
  const failure = classifySmtpError(answer);
  const response = (answer.response ?? String((error as Error).message)).slice(0, 500);
  const base = { id: row.id, relayId: null, failure };
  if (isThrottling(answer) && sendStartedAt + backoff.deferHorizonSeconds * 1000 > Date.now() + 1000)
    return {
      ...base,
      status: "deferred",
      response,
      delay: throttledRetrySeconds,
      ambiguous: false,
      throttled: response,
    };
  if (failure.permanent)
    return {
      ...base,
      status: failure.policy ? "failed" : "bounced",
      response,
      delay: null,
      ambiguous: false,
    };
  const delay = retryDelay(backoff, row.attempts, sendStartedAt);
  const ambiguous = lostMidSession(error);
  return delay === undefined
    ? { ...base, status: "failed", response: `gave up after retries: ${response}`, delay: null, ambiguous }
    : { ...base, status: "deferred", response, delay, ambiguous };
}

/**
 * A relay that cannot be used at all: its certificate cannot be trusted (a private CA needs
 * SMTP_CA_FILE), TLS could not be set up, or it refused our login for good. Every message would
 * fail the same way, so deferring each for a day only hides it; the send pauses instead.
 */
export function relayFault(error: unknown): string | undefined {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string };
  const said = (message ?? String(error)).replace(/\s+/g, " ").slice(0, 200);
  if (code === "ETLS" && (error as { command?: string }).command === "EHLO")
    return `the SMTP relay offers no TLS (${said}): use its submission port with STARTTLS (smtp://...:587) or implicit TLS (smtps://...:465) in SMTP_URL (SMTP_TLS=insecure sends in clear: only for tests), then resume the send`;
  if (code === "ETLS")
    return `TLS with the SMTP relay failed (${said}): for a relay with a private CA set SMTP_CA_FILE, otherwise fix its certificate; then resume the send`;
  if (code === "EAUTH" && responseCode !== undefined && responseCode >= 500)
    return `the SMTP relay refused our login (${said}): fix the user and password in SMTP_URL, then resume the send`;
  return undefined;
}

/** nodemailer puts a RCPT refusal in `rejectedErrors`; the top-level error then only says EENVELOPE. */
function smtpAnswer(error: unknown): { responseCode?: number; response?: string; command?: string } {
  const e = error as {
    responseCode?: number;
    response?: string;
    command?: string;
    rejectedErrors?: { responseCode?: number; response?: string; command?: string }[];
  };
  return e.rejectedErrors?.[0] ?? e;
}

/**
 * A connection closed or timed out without an answer: if that was after the final dot, the server
 * may have queued the message, and the retry is a second copy. The error does not say at which
 * step it happened, so every such loss counts as ambiguous (an upper bound, never an undercount),
 * except one before any byte of the message was written (opening the session, MAIL/RCPT/DATA).
 */
function lostMidSession(error: unknown): boolean {
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  if ((error as { [beforeMessage]?: boolean })[beforeMessage]) return false;
  return responseCode === undefined && (code === "ECONNECTION" || code === "ETIMEDOUT");
}

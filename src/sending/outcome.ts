import { classifySmtpError, type SmtpFailure } from "../bounces/classify.js";
import { type BackoffSettings, retryDelay } from "./backoff.js";
import { beforeMessage, type SmtpResult } from "./mailer.js";
import { relayMessageId } from "./relay-id.js";

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
  const answer = smtpAnswer(error);
  const failure = classifySmtpError(answer);
  const response = (answer.response ?? String((error as Error).message)).slice(0, 500);
  const base = { id: row.id, relayId: null, failure };
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

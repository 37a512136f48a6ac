/**
 * The one shape every bounce or complaint source is normalised into (DSN, plain-text bounce, ARF
 * report, or a synchronous SMTP 5xx answer) before any policy runs.
 */
export type BounceType = "hard" | "soft" | "complaint" | "none";

export interface BounceRecipient {
  /** The failed recipient's address as the report names it (lower-cased domain). */
  address: string;
  /** RFC 3463 enhanced status code, e.g. "5.1.1"; "" when the report gives none. */
  status: string;
  /** RFC 3464 Action: failed | delayed | delivered | relayed | expanded; "" when unknown. */
  action: string;
  /** The remote server's words (Diagnostic-Code or the quoted SMTP answer); "" when none. */
  diagnostic: string;
  /** This recipient's own class; the report's `type` is the most severe of them. */
  type: BounceType;
  /** Short machine reason, e.g. "user_unknown", "mailbox_full", "policy", "spam_block". */
  reason: string;
}

export interface Bounce {
  type: BounceType;
  /** ARF Feedback-Type (abuse, fraud, opt-out, auth-failure, not-spam, other, virus) for complaints. */
  feedbackType?: string;
  recipients: BounceRecipient[];
  /** Our own Message-ID of the original message, when the report quotes it. */
  originalMessageId?: string;
}

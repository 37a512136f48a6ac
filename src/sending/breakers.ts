import type { BreakerKind } from "../db/schema.js";

/**
 * The circuit breakers (SPEC §6 "Guardrails") as pure policy over counts derived from a send's
 * rows: too many complaints or hard bounces mean the list or the mail is wrong, and every further
 * message burns the sender's reputation, so the send pauses itself and a person decides.
 *
 * After staff force a breaker-paused send on, what they accepted becomes the floor: a breaker trips
 * again only for a further rise, i.e. when its rate reaches half as much again as the rate accepted
 * (never less than the configured rate) and more reports came in since. Tripping again at the same
 * rate the person just looked at and accepted would only teach them to force without reading.
 */
export interface BreakerSettings {
  /** COMPLAINT_PAUSE_RATE: complaints per sent message that pause the send. */
  complaintPauseRate: number;
  /** BOUNCE_PAUSE_RATE: hard bounces per sent message that pause the send. */
  bouncePauseRate: number;
}

/** A send's counts, from its rows (breaker-counts.ts). */
export interface BreakerCounts {
  /** Messages the receiving server answered: `sent`, plus `bounced` (refused or bounced later). */
  sent: number;
  /** Counted abuse/fraud/opt-out complaints; auth-failure reports change no reader, so not these. */
  complaints: number;
  /** Counted hard bounces. */
  hardBounces: number;
}

/** The counts at the last forced resume (the sends row's forced_* columns); null if never forced. */
export type AcceptedCounts = BreakerCounts | null;

/** Below this many sent messages a rate means little: one complaint in ten is noise. */
export const minimumSent = 100;
/** Complaints at this rate earn a warning (status and log), not a pause. */
export const complaintWarnRate = 0.001;
/** After a forced resume, a breaker trips again at this multiple of the accepted rate. */
export const rearmFactor = 1.5;

export interface Trip {
  breaker: BreakerKind;
  /** The send's `paused_reason`: what happened, in figures, and how to go on. */
  reason: string;
}

const percent = (rate: number) => `${(Math.round(rate * 10_000) / 100).toString()} %`;

/** The rate at which `kind` trips, given what staff accepted at a forced resume. */
export function threshold(configured: number, accepted: AcceptedCounts, count: "complaints" | "hardBounces") {
  if (!accepted || accepted.sent === 0) return configured;
  return Math.max(configured, rearmFactor * (accepted[count] / accepted.sent));
}

/** The breaker that trips on these counts, if any (complaints first: they hurt reputation most). */
export function judgeBreakers(
  counts: BreakerCounts,
  settings: BreakerSettings,
  accepted: AcceptedCounts,
): Trip | null {
  if (counts.sent < minimumSent) return null;
  const complaintRate = counts.complaints / counts.sent;
  const bounceRate = counts.hardBounces / counts.sent;
  const rose = (count: "complaints" | "hardBounces") => !accepted || counts[count] > accepted[count];
  const complaintLimit = threshold(settings.complaintPauseRate, accepted, "complaints");
  const bounceLimit = threshold(settings.bouncePauseRate, accepted, "hardBounces");
  const forced = accepted ? " (a further rise since it was forced on)" : "";
  if (complaintRate >= complaintLimit && rose("complaints")) {
    return {
      breaker: "complaints",
      reason:
        `complaints reached ${percent(complaintRate)} of sent (${counts.complaints} of ${counts.sent}; ` +
        `the limit is ${percent(complaintLimit)})${forced}: readers are marking this mail as spam. ` +
        "Check the list's consent before going on; resuming needs digest resume --force (console: a typed confirmation)",
    };
  }
  if (bounceRate >= bounceLimit && rose("hardBounces")) {
    return {
      breaker: "hard-bounces",
      reason:
        `hard bounces reached ${percent(bounceRate)} of sent (${counts.hardBounces} of ${counts.sent}; ` +
        `the limit is ${percent(bounceLimit)})${forced}: the list holds many addresses that do not exist. ` +
        "Clean the list before going on; resuming needs digest resume --force (console: a typed confirmation)",
    };
  }
  return null;
}

/** A complaint rate worth a look that pauses nothing by itself (shown in status, logged). */
export function complaintWarning(counts: BreakerCounts): string | null {
  if (counts.sent < minimumSent || counts.complaints / counts.sent < complaintWarnRate) return null;
  return (
    `complaints at ${percent(counts.complaints / counts.sent)} of sent (${counts.complaints} of ${counts.sent}): ` +
    "readers are marking this mail as spam; at COMPLAINT_PAUSE_RATE (0.3 % unless set) the send pauses itself"
  );
}

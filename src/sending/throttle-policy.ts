/**
 * Relay throttling, as policy only (the Redis plumbing is relay-rate.ts): which answers mean "you
 * send too fast", and how the shared rate of all workers moves in answer (AIMD: lowered
 * multiplicatively at once, raised additively while answers are clean, never above SEND_RATE).
 */

/** The rate all workers share while it is below SEND_RATE; none (null) means SEND_RATE is in force. */
export interface LoweredRate {
  /** Messages per second in force. */
  rate: number;
  /** Why: the relay's answer that lowered it last. */
  reason: string;
  /** When the rate last moved (ms, the Redis server's clock). */
  changedAt: number;
  /** When the relay last said it was over its rate. */
  throttledAt: number;
}

export interface ThrottlePolicy {
  /** Multiplier on a throttled answer. 0.7 rather than 0.5 (as CUBIC does): the sawtooth stays near the relay's limit. */
  decrease: number;
  /** Share of the relay's accepted count of the last second to aim at (it counts bursts too). */
  belowAccepted: number;
  /** Never below this many messages per second. */
  floor: number;
  /**
   * At most one decrease within this long: answers to messages sent before the last decrease
   * still come back throttled, and each one must not halve the rate again.
   */
  holdMs: number;
  /** Raised by this share of SEND_RATE at a time... */
  raiseShare: number;
  /** ...after this long with no throttled answer. */
  raiseAfterMs: number;
}

export const throttlePolicy: ThrottlePolicy = {
  decrease: 0.7,
  belowAccepted: 0.9,
  floor: 1,
  holdMs: 500,
  raiseShare: 0.1,
  raiseAfterMs: 2000,
};

/** The rate in force: the lowered one, or SEND_RATE. */
export function rateInForce(state: LoweredRate | null, configured: number): number {
  return state ? Math.min(state.rate, configured) : configured;
}

/**
 * A throttled answer came back at `now`, when the relay had accepted `acceptedLastSecond` of our
 * messages in the last second. The rate drops at least by `decrease`, and to below what the relay
 * just took: that count is the relay's limit said in the only way it can, so a send that starts
 * far too fast finds the limit in one step instead of several seconds of refusals.
 */
export function afterThrottle(
  state: LoweredRate | null,
  configured: number,
  now: number,
  answer: string,
  acceptedLastSecond: number,
  policy: ThrottlePolicy = throttlePolicy,
): LoweredRate {
  if (state && now - state.changedAt < policy.holdMs)
    return { ...state, throttledAt: Math.max(now, state.throttledAt) };
  const lower = Math.min(
    rateInForce(state, configured) * policy.decrease,
    acceptedLastSecond * policy.belowAccepted,
  );
  const rate = Math.max(policy.floor, Math.floor(lower * 100) / 100);
  return { rate, reason: `relay throttling: ${oneLine(answer)}`, changedAt: now, throttledAt: now };
}

/**
 * Answers came back with no throttling at `now`: one step up once the last throttled answer (and
 * the last move) is `raiseAfterMs` old. Null once SEND_RATE is reached again.
 */
export function afterClean(
  state: LoweredRate | null,
  configured: number,
  now: number,
  policy: ThrottlePolicy = throttlePolicy,
): LoweredRate | null {
  if (!state) return null;
  if (now - Math.max(state.changedAt, state.throttledAt) < policy.raiseAfterMs) return state;
  const rate = state.rate + Math.max(1, configured * policy.raiseShare);
  return rate >= configured ? null : { ...state, rate, changedAt: now };
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim().slice(0, 200);

/**
 * Documented wordings of "over your sending rate", read in order; the first rule that matches
 * decides. Greylisting and full mailboxes come first: they are about one reader, and slowing every
 * worker would not help them.
 */
const RULES: readonly (readonly [throttling: boolean, pattern: RegExp])[] = [
  // Amazon SES: "454 Throttling failure: Maximum sending rate exceeded." (also "Daily message
  // quota exceeded", which would otherwise read as a full mailbox below).
  [true, /throttling failure/i],
  // Greylisting: "451 4.7.1 Greylisted, try again", "450 4.2.0 ... Recipient address rejected: Greylisted".
  [false, /gr[ae]y ?list/i],
  // A full mailbox: "452 4.2.2 Mailbox full", Gmail's "452-4.2.2 ... is over quota".
  [
    false,
    /\b4\.2\.2\b|mailbox (?:is )?full|over ?quota|quota (?:exceeded|full)|insufficient (?:disk |storage )?space/i,
  ],
  // One reader receiving too fast (Gmail "450-4.2.1 ... receiving mail at a rate that prevents
  // additional messages"): that mailbox's limit, not the relay's.
  [false, /\b4\.2\.1\b|receiving mail (?:at a rate|too quickly)/i],
  // Too many connections at once is SMTP_POOL's business, not the message rate.
  [false, /too many (?:concurrent )?(?:connections|sessions)|concurrent (?:server )?connections/i],
  // Microsoft 365 / Exchange Online: "421 4.7.500 Server busy. Please try again later from [...]"
  // (4.7.500-4.7.699 are its throttling codes); "451 4.7.650 ... temporarily rate limited".
  [true, /\b4\.7\.(?:[56]\d\d)\b/],
  // Google: "421-4.7.28 ... unusual rate of unsolicited mail ... temporarily rate limited",
  // "421-4.7.0 ... has been temporarily rate limited".
  [true, /\b4\.7\.28\b|rate[- ]?limit(?:ed|ing)?\b|ratelimit/i],
  // Postfix anvil and kin: "450 4.7.1 Error: too much mail from ...", "too many messages",
  // "451 4.7.1 ... too many recipients from [ip]"; Yahoo "[TSS04] ... unexpected volume".
  [
    true,
    /too much mail|too many (?:messages|emails|mails)|too many recipients from|sending rate|send(?:ing)? rate exceeded|message rate|maximum (?:sending )?rate|rate exceeded|unexpected volume|throttl|server busy/i,
  ],
];

/** A relay answer that says we send too fast: a 4xx whose words or enhanced code mean throttling. */
export function isThrottling(answer: { responseCode?: number; response?: string }): boolean {
  const code = answer.responseCode;
  if (code === undefined || code < 400 || code > 499) return false;
  const text = answer.response ?? "";
  return RULES.find(([, pattern]) => pattern.test(text))?.[0] ?? false;
}

import { describe, expect, it } from "vitest";
import {
  afterClean,
  afterThrottle,
  isThrottling,
  type LoweredRate,
  rateInForce,
} from "../../src/sending/throttle-policy.js";

/** Which relay answers mean "you send too fast", and how the shared rate moves (pure, no Redis). */
describe("a relay answer that means throttling", () => {
  const cases: [code: number, text: string, throttling: boolean][] = [
    // Amazon SES
    [454, "454 Throttling failure: Maximum sending rate exceeded.", true],
    [454, "454 Throttling failure: Daily message quota exceeded.", true],
    // Microsoft 365 / Exchange Online
    [
      421,
      "421 4.7.500 Server busy. Please try again later from [203.0.113.5]. (S77719) [BN8NAM11FT041.eop-nam11.prod.protection.outlook.com]",
      true,
    ],
    [
      451,
      "451 4.7.650 The mail server [203.0.113.5] has been temporarily rate limited due to IP reputation.",
      true,
    ],
    // Google
    [
      421,
      "421-4.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.",
      true,
    ],
    [
      421,
      "421-4.7.0 [203.0.113.5] Our system has detected that this message is suspicious and has been temporarily rate limited.",
      true,
    ],
    // Generic relays and Postfix's anvil
    [421, "421 4.7.0 Error: rate limit exceeded, try again later", true],
    [451, "451 4.7.1 Error: too many messages in one hour from this sender", true],
    [450, "450 4.7.1 Error: too much mail from 203.0.113.5", true],
    [450, "450 4.7.1 Error: too many recipients from 203.0.113.5", true],
    [
      421,
      "421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints",
      true,
    ],
    // Not throttling: one reader's greylisting or mailbox
    [451, "451 4.7.1 Greylisted, try again", false],
    [
      450,
      "450 4.2.0 <r@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/",
      false,
    ],
    [451, "451 4.7.1 Please try again later", false],
    [452, "452 4.2.2 Mailbox full", false],
    [452, "452-4.2.2 The email account that you tried to reach is over quota.", false],
    [
      450,
      "450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.",
      false,
    ],
    [421, "421 4.7.0 Try again later, closing connection.", false],
    [421, "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit", false],
    [452, "452 4.5.3 Too many recipients", false],
    // A permanent refusal is never throttling, whatever its words
    [554, "554 Throttling failure: sending paused for this account", false],
    [550, "550 5.7.1 rate limit exceeded, message rejected", false],
  ];
  it.each(cases)("%i %s -> %s", (responseCode, response, throttling) => {
    expect(isThrottling({ responseCode, response })).toBe(throttling);
  });

  it("is not throttling without an SMTP code (a lost connection)", () => {
    expect(isThrottling({ response: "rate limit exceeded" })).toBe(false);
  });
});

describe("the shared rate (AIMD against SEND_RATE 200)", () => {
  const configured = 200;
  const at = (rate: number, changedAt: number, throttledAt = changedAt): LoweredRate => ({
    rate,
    reason: "relay throttling: 454 Throttling failure: Maximum sending rate exceeded.",
    changedAt,
    throttledAt,
  });
  const answer = "454 Throttling failure: Maximum sending rate exceeded.";

  const throttles: [what: string, state: LoweredRate | null, now: number, accepted: number, rate: number][] =
    [
      ["from SEND_RATE, to below what the relay took in the last second", null, 10_000, 40, 36],
      ["at least ×0.7 even when the relay took more", null, 10_000, 500, 140],
      ["not below 1 msg/s when the relay took nothing", null, 10_000, 0, 1],
      ["again once the last decrease is half a second old", at(50, 9_400), 10_000, 40, 35],
    ];
  it.each(throttles)("a throttled answer lowers the rate %s", (_what, state, now, accepted, rate) => {
    const next = afterThrottle(state, configured, now, answer, accepted);
    expect(next).toMatchObject({ rate, changedAt: now, reason: `relay throttling: ${answer}` });
  });

  it("a throttled answer within half a second of a decrease changes nothing but the clean clock", () => {
    expect(afterThrottle(at(36, 9_800), configured, 10_000, answer, 10)).toEqual(at(36, 9_800, 10_000));
  });

  const cleans: [what: string, state: LoweredRate | null, now: number, next: LoweredRate | null][] = [
    ["stays at SEND_RATE", null, 10_000, null],
    ["waits two seconds after a decrease", at(36, 9_000), 10_000, at(36, 9_000)],
    ["waits two seconds after the last throttled answer", at(36, 5_000, 9_000), 10_000, at(36, 5_000, 9_000)],
    ["then steps up by 10 % of SEND_RATE", at(36, 8_000), 10_000, { ...at(56, 10_000), throttledAt: 8_000 }],
    ["and back to SEND_RATE, never above", at(190, 8_000), 10_000, null],
  ];
  it.each(cleans)("clean answers: the rate %s", (_what, state, now, next) => {
    expect(afterClean(state, configured, now)).toEqual(next);
  });

  it("the rate in force is the lowered one, never above SEND_RATE", () => {
    expect(rateInForce(null, configured)).toBe(200);
    expect(rateInForce(at(36, 0), configured)).toBe(36);
    expect(rateInForce(at(300, 0), configured)).toBe(200);
  });
});

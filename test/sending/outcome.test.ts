import { describe, expect, it } from "vitest";
import { beforeMessage } from "../../src/sending/mailer.js";
import { failedOutcome, sentOutcome } from "../../src/sending/outcome.js";

/** Each row's status is decided once, here, from the server's answer. */
const row = { id: 7, attempts: 1 };
const backoff = { retryBaseSeconds: 60, deferHorizonSeconds: 3600 };
const refusal = (responseCode: number, response: string, command = "RCPT TO") =>
  Object.assign(new Error(response), { code: "EENVELOPE", responseCode, response, command });

describe("the outcome of one attempt", () => {
  it("a 250 is sent, with the relay's id", () => {
    const outcome = sentOutcome(row, {
      response: "250 2.0.0 Ok: queued as 4BxY3c2K",
      accepted: [],
      rejected: [],
    });
    expect(outcome).toMatchObject({ status: "sent", relayId: "4BxY3c2K", ambiguous: false });
  });

  it("an unknown user is bounced (hard), a full mailbox is bounced (soft), a 5.7.x refusal failed", () => {
    expect(failedOutcome(row, refusal(550, "550 5.1.1 User unknown"), backoff, Date.now())).toMatchObject({
      status: "bounced",
      failure: { type: "hard", permanent: true },
    });
    expect(failedOutcome(row, refusal(552, "552 5.2.2 Mailbox full"), backoff, Date.now())).toMatchObject({
      status: "bounced",
      failure: { type: "soft" },
    });
    expect(failedOutcome(row, refusal(550, "550 5.7.1 DMARC policy"), backoff, Date.now())).toMatchObject({
      status: "failed",
      failure: { policy: true },
    });
  });

  it("a 4xx is deferred with backoff, and failed once the next try would fall past the horizon", () => {
    expect(failedOutcome(row, refusal(451, "451 4.7.1 Greylisted"), backoff, Date.now())).toMatchObject({
      status: "deferred",
      delay: 60,
    });
    const startedLongAgo = Date.now() - 3590 * 1000;
    expect(failedOutcome(row, refusal(451, "451 4.7.1 Greylisted"), backoff, startedLongAgo)).toMatchObject({
      status: "failed",
      response: expect.stringMatching(/^gave up after retries/),
    });
  });

  it("a connection lost during the message is ambiguous; one lost before any byte of it is not", () => {
    const lost = () => Object.assign(new Error("connection closed"), { code: "ECONNECTION" });
    expect(failedOutcome(row, lost(), backoff, Date.now())).toMatchObject({
      status: "deferred",
      ambiguous: true,
    });
    const early = Object.assign(lost(), { [beforeMessage]: true });
    expect(failedOutcome(row, early, backoff, Date.now())).toMatchObject({
      status: "deferred",
      ambiguous: false,
    });
  });
});

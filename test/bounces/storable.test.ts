import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyReport } from "../../src/bounces/apply.js";
import { createTestDatabase } from "../helpers/db.js";
import { type Pipeline, reportDeps } from "../sending/harness.js";
import { type Relay, sendThroughRelay, startRelay, statusOf } from "../webhooks/relay.js";

/**
 * A report's words are whatever its writer put there: a JSON `\u0000` or lone `\ud800` from a
 * provider's webhook, a NUL from a base64 part of a DSN. Postgres text refuses NUL and jsonb refuses
 * both, so such a report, though proven, could never be recorded: a webhook failed on every retry,
 * inbound SMTP answered "try again" for days and the bounce mailbox read it again at every pass.
 */
const database = await createTestDatabase();
let relay: Relay;
let pipe: Pipeline;
const reader = (i: number) => `r${i}@readers.test`;
const deps = reportDeps(database);

beforeAll(async () => {
  relay = await startRelay();
  pipe = await sendThroughRelay(database, relay, 2);
}, 60_000);
afterAll(async () => {
  await pipe?.close();
  await relay?.close();
});

describe("a proven report with characters Postgres cannot store", () => {
  it.each([
    ["a NUL", 0, "550 5.1.1 no such\u0000user", "550 5.1.1 no suchuser"],
    ["a lone surrogate", 1, "550 5.1.1 no such \ud800user", "550 5.1.1 no such \ufffduser"],
  ])("is recorded, %s in its words left out or replaced", async (_, i, diagnostic, stored) => {
    const messageId = relay.messageIdOf.get(reader(i)) ?? "";
    const outcome = await applyReport(deps, {
      bounce: {
        type: "hard",
        originalMessageId: messageId,
        recipients: [
          {
            address: reader(i),
            status: "5.1.1",
            action: "failed",
            diagnostic,
            type: "hard",
            reason: "user_unknown",
          },
        ],
      },
      proofs: [{ kind: "message-id", messageId }],
      source: "webhook",
      reportId: `event-${diagnostic}`,
      provider: "postmark",
    });
    expect(outcome.applied).toBe(true);
    expect(await statusOf(database, reader(i))).toBe("bounced");
    const [row] = await database.query<{ diagnostic: string; recipient: string; report: string }>(
      sql`select b.diagnostic, b.details->'recipients'->0->>'diagnostic' as recipient, b.details->>'reportId' as report
        from bounces b join subscribers s on s.id = b.subscriber_id where s.email = ${reader(i)}`,
    );
    expect(row).toEqual({ diagnostic: stored, recipient: stored, report: `event-${stored}` });
  });
});

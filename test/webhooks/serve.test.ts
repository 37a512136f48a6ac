import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServe, startServe } from "../../src/cli/serve-process.js";
import { silentLogger } from "../../src/log.js";
import { createTestDatabase } from "../helpers/db.js";
import { type PrivateDovecot, startDovecot, withImap } from "../helpers/dovecot.js";
import { dropPrefix, uniquePrefix } from "../helpers/redis.js";
import { serveSettingsFor } from "../inbound/harness.js";
import { type Pipeline, waitUntil } from "../sending/harness.js";
import { type Relay, sendThroughRelay, startRelay, statusOf } from "./relay.js";
import { mailgunSignature } from "./sign.js";

/**
 * `digest serve` with a relay's bounce settings: the Mailgun webhook over real HTTP and the bounce
 * mailbox (BOUNCE_IMAP_URL) on a real Dovecot, both stopping mail to the readers they report.
 */
const database = await createTestDatabase();
const prefix = uniquePrefix("serve-relay");
const mailgunKey = `key-${randomBytes(16).toString("hex")}`;
let dovecot: PrivateDovecot;
let relay: Relay;
let pipe: Pipeline;
let serve: RunningServe;

const reader = (i: number) => `r${i}@readers.test`;

beforeAll(async () => {
  dovecot = await startDovecot();
  relay = await startRelay();
  pipe = await sendThroughRelay(database, relay, 3);
  serve = await startServe(
    await serveSettingsFor(prefix, {
      publicUrl: "http://127.0.0.1:3000",
      bounceImapUrl: dovecot.url("Bounces"),
      webhookMailgunSigningKey: mailgunKey,
    }),
    database,
    silentLogger,
  );
}, 60_000);
afterAll(async () => {
  await serve?.close();
  await pipe?.close();
  await relay?.close();
  await dovecot?.stop();
  await dropPrefix(prefix);
});

describe("digest serve with a relay's bounce settings", () => {
  it("a signed Mailgun complaint over HTTP stops mail to its reader", async () => {
    const messageId = relay.messageIdOf.get(reader(0)) ?? "";
    const body = {
      signature: mailgunSignature(mailgunKey),
      "event-data": {
        id: "-Agny091SquKnsrW2NEKUA",
        event: "complained",
        recipient: reader(0),
        message: { headers: { "message-id": messageId.slice(1, -1) } },
      },
    };
    const res = await fetch(`http://127.0.0.1:${serve.httpPort}/webhooks/mailgun`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await statusOf(database, reader(0))).toBe("complained");
    const postmark = await fetch(`http://127.0.0.1:${serve.httpPort}/webhooks/postmark`, {
      method: "POST",
      body: "{}",
    });
    expect(postmark.status).toBe(404);
    // No SNS_TOPIC_ARNS: the SES webhook is off, so no stranger's topic can subscribe to it.
    const ses = await fetch(`http://127.0.0.1:${serve.httpPort}/webhooks/ses`, {
      method: "POST",
      body: JSON.stringify({
        Type: "SubscriptionConfirmation",
        TopicArn: "arn:aws:sns:us-east-1:999999999999:x",
      }),
    });
    expect(ses.status).toBe(404);
  });

  it("reads the mailbox named by BOUNCE_IMAP_URL, creating Processed under it", async () => {
    await withImap(dovecot, async (imap) => {
      await imap.mailboxCreate("Bounces");
      const messageId = relay.messageIdOf.get(reader(1)) ?? "";
      await imap.append(
        "Bounces",
        [
          "From: MAILER-DAEMON@relay.example.net",
          "To: bounces@example.org",
          "Subject: Delivery Status Notification (Failure)",
          "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
          "",
          "--b",
          "Content-Type: message/delivery-status",
          "",
          "Reporting-MTA: dns; relay.example.net",
          "",
          `Final-Recipient: rfc822; ${reader(1)}`,
          "Action: failed",
          "Status: 5.1.1",
          "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
          "",
          "--b",
          "Content-Type: text/rfc822-headers",
          "",
          `Message-ID: ${messageId}`,
          "",
          "--b--",
          "",
        ].join("\r\n"),
      );
      // The reader started before the mailbox existed: it finds it on its next try (10 s later).
      await waitUntil(async () => (await statusOf(database, reader(1))) === "bounced", 30_000, "r1 bounced");
      await waitUntil(
        async () => {
          const status = await imap.status("Bounces/Processed", { messages: true });
          return status !== false && status.messages === 1;
        },
        5_000,
        "the bounce moved to Bounces/Processed",
      );
      const metrics = await (await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/digest_bounce_mailbox_messages\{result="applied"\} 1/);
      expect(metrics).toMatch(/digest_webhook_events_total\{provider="mailgun",outcome="applied"\} 1/);
    });
  }, 60_000);
});

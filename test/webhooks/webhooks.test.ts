import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Hono } from "hono";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snsKeySource } from "../../src/bounces/providers/sns.js";
import { bounceSources } from "../../src/bounces/sources.js";
import { loadConfig } from "../../src/config.js";
import { createApp } from "../../src/http/app.js";
import { redisReplayMemory, type WebhookDeps } from "../../src/http/webhooks.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { startService } from "../http/harness.js";
import type { Pipeline } from "../sending/harness.js";
import { identity, secret, softBounces } from "../sending/harness.js";
import { bounceCount, type Relay, sendThroughRelay, startRelay, statusOf, suppressedCount } from "./relay.js";
import { mailgunSignature, sendgridSigner, snsNotification, snsSigner } from "./sign.js";

/**
 * A send through a relay that keeps bounces to itself (it answers "250 Ok <its id>"), and the
 * relay's webhooks reporting back: signed calls stop mail to the readers they name, proven by our
 * signed Message-ID or the relay's id; anything unsigned, forged, stale or replayed gets 401 and
 * changes nothing.
 */
const service = await startService({ worker: false });
const { database } = service;
const sns = snsSigner();
const sendgrid = sendgridSigner();
const mailgunKey = `key-${randomBytes(16).toString("hex")}`;
const postmarkAuth = "postmark:correct-horse-battery";
const prefix = uniquePrefix("hooks");
const redis = new Redis(sharedRedisUrl);
const visited: string[] = [];
let relay: Relay;
let pipe: Pipeline;
let app: Hono;

const reader = (i: number) => `r${i}@readers.test`;
/** SNS_TOPIC_ARNS: the topic SES reports to (as in sign.ts); another account's topic is anyone's. */
const ourTopic = "arn:aws:sns:eu-west-1:123456789012:ses-bounces";
const strangersTopic = "arn:aws:sns:us-east-1:999999999999:ses-bounces";
const ourId = (i: number) => relay.messageIdOf.get(reader(i)) ?? "";
const relayId = (i: number) => relay.ids.get(ourId(i)) ?? "";

function webhookDeps(overrides: Partial<WebhookDeps> = {}): WebhookDeps {
  return {
    report: {
      db: database.db,
      secret,
      domain: identity.domain,
      softBounceLimit: 3,
      deferHorizonSeconds: 3600,
    },
    log: pino({ level: "silent" }),
    snsKeys: snsKeySource({ certFile: sns.certFile }),
    snsTopicArns: [ourTopic],
    async confirmSubscription(url) {
      visited.push(url);
    },
    postmarkAuth,
    mailgunSigningKey: mailgunKey,
    sendgridPublicKey: sendgrid.publicKey,
    ...redisReplayMemory(redis, prefix),
    ...overrides,
  };
}

beforeAll(async () => {
  relay = await startRelay();
  pipe = await sendThroughRelay(database, relay, 14);
  app = await createApp({ ...service.deps, metricsToken, webhooks: webhookDeps() });
}, 60_000);
afterAll(async () => {
  await pipe?.close();
  await relay?.close();
  await dropPrefix(prefix);
  redis.disconnect();
});

const metricsToken = "webhooks-metrics-token-0123456789";

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });

/** What a reader's state is: their status, and whether anything was recorded at all. */
async function snapshot() {
  const rows = await database.query<{ email: string; status: string; soft_bounces: number }>(
    sql`select email, status, ${softBounces} as soft_bounces from subscribers order by email`,
  );
  return { rows, bounces: await bounceCount(database), suppressed: await suppressedCount(database) };
}

function sesBounce(
  i: number,
  options: { withHeaders?: boolean; status?: string; diagnostic?: string; type?: string } = {},
) {
  const at = new Date().toISOString();
  const headers =
    options.withHeaders === false
      ? {}
      : {
          headersTruncated: false,
          headers: [
            { name: "From", value: "Alliance Digest <news@example.org>" },
            { name: "To", value: reader(i) },
            { name: "Message-ID", value: ourId(i) },
          ],
          commonHeaders: {
            from: ["Alliance Digest <news@example.org>"],
            to: [reader(i)],
            messageId: ourId(i),
            subject: "Vol 2.6",
          },
        };
  return {
    notificationType: "Bounce",
    bounce: {
      bounceType: options.type ?? "Permanent",
      bounceSubType: "General",
      bouncedRecipients: [
        {
          emailAddress: reader(i),
          action: "failed",
          status: options.status ?? "5.1.1",
          diagnosticCode:
            options.diagnostic ??
            "smtp; 550 5.1.1 <r@readers.test>: Recipient address rejected: User unknown in virtual mailbox table",
        },
      ],
      timestamp: at,
      feedbackId: `0102018c-${randomBytes(6).toString("hex")}-000000`,
      remoteMtaIp: "192.0.2.10",
      reportingMTA: "dsn; a8-70.smtp-out.amazonses.com",
    },
    mail: {
      timestamp: at,
      source: "news@example.org",
      sourceArn: "arn:aws:ses:eu-west-1:123456789012:identity/example.org",
      sendingAccountId: "123456789012",
      messageId: relayId(i),
      destination: [reader(i)],
      ...headers,
    },
  };
}

function sesComplaint(i: number) {
  const at = new Date().toISOString();
  return {
    notificationType: "Complaint",
    complaint: {
      userAgent: "ExampleCorp Feedback Loop (V0.01)",
      complainedRecipients: [{ emailAddress: reader(i) }],
      complaintFeedbackType: "abuse",
      arrivalDate: at,
      timestamp: at,
      feedbackId: `0102018c-${randomBytes(6).toString("hex")}-000000`,
    },
    // No headers: the complaint is matched by SES's own id of the message alone.
    mail: { timestamp: at, source: "news@example.org", messageId: relayId(i), destination: [reader(i)] },
  };
}

describe("Amazon SES through SNS", () => {
  it("a signed hard bounce (SignatureVersion 1) suppresses the reader it names", async () => {
    const res = await post("/webhooks/ses", JSON.stringify(sns.sign(snsNotification(sesBounce(0)), "1")));
    expect(res.status).toBe(200);
    expect(await statusOf(database, reader(0))).toBe("bounced");
  });

  it("a signed complaint (SignatureVersion 2) matched by SES's message id alone suppresses its reader", async () => {
    const res = await post("/webhooks/ses", JSON.stringify(sns.sign(snsNotification(sesComplaint(1)), "2")));
    expect(res.status).toBe(200);
    expect(await statusOf(database, reader(1))).toBe("complained");
    const [row] = await database.query<{ source: string; provider: string }>(
      sql`select source, details->>'provider' as provider from bounces where type = 'complaint'`,
    );
    expect(row).toEqual({ source: "webhook", provider: "ses" });
  });

  it("a temporary SES bounce is soft, whatever its words", async () => {
    const res = await post(
      "/webhooks/ses",
      JSON.stringify(
        sns.sign(
          snsNotification(
            sesBounce(2, { type: "Transient", status: "4.4.7", diagnostic: "smtp; 450 user unknown" }),
          ),
        ),
      ),
    );
    expect(res.status).toBe(200);
    expect(await statusOf(database, reader(2))).toBe("active");
    expect((await snapshot()).rows.find((r) => r.email === reader(2))?.soft_bounces).toBe(1);
  });

  it("refuses forged, tampered, stale, replayed and unsigned messages with 401, changing nothing", async () => {
    const before = await snapshot();
    const good = sns.sign(snsNotification(sesBounce(3)));
    const forged = [
      { ...good, SigningCertURL: "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem" },
      { ...good, SigningCertURL: "https://evil.example/sns.eu-west-1.amazonaws.com/cert.pem" },
      { ...good, SigningCertURL: "http://sns.eu-west-1.amazonaws.com/cert.pem" },
      { ...good, Message: good.Message?.replace("r3@", "r4@") },
      { ...good, Signature: undefined },
      sns.sign(snsNotification(sesBounce(3), new Date(Date.now() - 3 * 24 * 3600 * 1000))),
      { ...snsNotification(sesBounce(3)) },
    ];
    for (const body of forged) expect((await post("/webhooks/ses", JSON.stringify(body))).status).toBe(401);
    expect((await post("/webhooks/ses", "not json")).status).toBe(401);
    expect(await snapshot()).toEqual(before);
    // The genuine one is applied once; the same signed message again is a replay.
    expect((await post("/webhooks/ses", JSON.stringify(good))).status).toBe(200);
    expect(await statusOf(database, reader(3))).toBe("bounced");
    const after = await snapshot();
    expect((await post("/webhooks/ses", JSON.stringify(good))).status).toBe(401);
    expect(await snapshot()).toEqual(after);
  });

  const confirmation = (url: string, topic = ourTopic) =>
    sns.sign({
      Type: "SubscriptionConfirmation",
      MessageId: randomBytes(8).toString("hex"),
      Token: randomBytes(32).toString("hex"),
      TopicArn: topic,
      Message: `You have chosen to subscribe to the topic ${topic}.`,
      SubscribeURL: url,
      Timestamp: new Date().toISOString(),
    });
  const subscribeUrl = (topic: string) =>
    `https://sns.${topic.split(":")[3]}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topic)}&Token=y`;

  it("confirms a signed subscription by visiting its SubscribeURL, and only an Amazon one", async () => {
    const amazon = subscribeUrl(ourTopic);
    expect((await post("/webhooks/ses", JSON.stringify(confirmation(amazon)))).status).toBe(200);
    expect(
      (await post("/webhooks/ses", JSON.stringify(confirmation("https://evil.example/?x")))).status,
    ).toBe(401);
    const unsigned = { ...confirmation(amazon), Signature: "AAAA" };
    expect((await post("/webhooks/ses", JSON.stringify(unsigned))).status).toBe(401);
    expect(visited).toEqual([amazon]);
  });

  it("refuses another account's topic with 403, never confirming its subscription nor reading its bounces", async () => {
    const before = await snapshot();
    const seen = visited.length;
    const theirs = await post(
      "/webhooks/ses",
      JSON.stringify(confirmation(subscribeUrl(strangersTopic), strangersTopic)),
    );
    expect(theirs.status).toBe(403);
    // Our topic in the message, theirs in the URL it asks us to visit.
    const smuggled = await post("/webhooks/ses", JSON.stringify(confirmation(subscribeUrl(strangersTopic))));
    expect(smuggled.status).toBe(403);
    const bounce = { ...snsNotification(sesBounce(7)), TopicArn: strangersTopic };
    expect((await post("/webhooks/ses", JSON.stringify(sns.sign(bounce)))).status).toBe(403);
    expect(visited).toHaveLength(seen);
    expect(await snapshot()).toEqual(before);
    expect(await statusOf(database, reader(7))).toBe("active");
  });

  it("a bounce whose recipient is not the delivery's reader is counted and not applied", async () => {
    const before = await snapshot();
    const event = sesBounce(5);
    event.bounce.bouncedRecipients[0]!.emailAddress = reader(6);
    expect((await post("/webhooks/ses", JSON.stringify(sns.sign(snsNotification(event))))).status).toBe(200);
    const stranger = {
      ...sesBounce(6, { withHeaders: false }),
      mail: { messageId: "0100-not-ours", destination: [] },
    };
    expect((await post("/webhooks/ses", JSON.stringify(sns.sign(snsNotification(stranger))))).status).toBe(
      200,
    );
    expect(await snapshot()).toEqual(before);
    const metrics = await (
      await app.request("/metrics", { headers: { Authorization: `Bearer ${metricsToken}` } })
    ).text();
    expect(metrics).toMatch(/digest_webhook_events_total\{provider="ses",outcome="unmatched"\} 2/);
    expect(metrics).toMatch(/digest_webhook_events_total\{provider="ses",outcome="rejected"\} \d+/);
  });
});

function postmarkBounce(i: number, type = "HardBounce") {
  return {
    RecordType: "Bounce",
    MessageStream: "outbound",
    ID: 3432372036 + i,
    Type: type,
    TypeCode: type === "HardBounce" ? 1 : 4096,
    Name: "Hard bounce",
    Tag: "",
    MessageID: relayId(i),
    Metadata: {},
    ServerID: 23,
    Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    Email: reader(i),
    From: "news@example.org",
    BouncedAt: new Date().toISOString(),
    DumpAvailable: false,
    Inactive: true,
    CanActivate: true,
    Subject: "Vol 2.6",
  };
}

describe("Postmark", () => {
  const basic = (auth: string) => ({ Authorization: `Basic ${Buffer.from(auth).toString("base64")}` });

  it("a hard bounce with the right basic auth, matched by Postmark's MessageID, suppresses its reader", async () => {
    const res = await post("/webhooks/postmark", JSON.stringify(postmarkBounce(7)), basic(postmarkAuth));
    expect(res.status).toBe(200);
    expect(await statusOf(database, reader(7))).toBe("bounced");
  });

  it("a spam complaint stops mail to its reader", async () => {
    const complaint = {
      ...postmarkBounce(8),
      RecordType: "SpamComplaint",
      Type: "SpamComplaint",
      TypeCode: 512,
    };
    expect((await post("/webhooks/postmark", JSON.stringify(complaint), basic(postmarkAuth))).status).toBe(
      200,
    );
    expect(await statusOf(database, reader(8))).toBe("complained");
  });

  it("wrong or missing credentials get 401 and change nothing", async () => {
    const before = await snapshot();
    for (const headers of [
      {},
      basic("postmark:wrong"),
      basic("other:correct-horse-battery"),
      { Authorization: "Bearer x" },
    ]) {
      expect((await post("/webhooks/postmark", JSON.stringify(postmarkBounce(9)), headers)).status).toBe(401);
    }
    expect(await snapshot()).toEqual(before);
  });
});

function mailgunFailure(i: number, signature = mailgunSignature(mailgunKey)) {
  return {
    signature,
    "event-data": {
      id: `G9Bn5sl1TC6nu79C8C0bwg-${randomBytes(4).toString("hex")}`,
      timestamp: Date.now() / 1000,
      "log-level": "error",
      event: "failed",
      severity: "permanent",
      reason: "bounce",
      recipient: reader(i),
      "recipient-domain": "readers.test",
      envelope: { sender: "bounces@example.org", transport: "smtp", targets: reader(i) },
      message: {
        headers: {
          to: reader(i),
          "message-id": ourId(i).slice(1, -1),
          from: "news@example.org",
          subject: "Vol 2.6",
        },
        attachments: [],
        size: 11111,
      },
      "delivery-status": {
        "attempt-no": 1,
        message: "",
        code: 550,
        "enhanced-code": "5.1.1",
        description: "5.1.1 The email account that you tried to reach does not exist.",
        "session-seconds": 0.4,
      },
      flags: { "is-routed": false, "is-authenticated": true, "is-system-test": false, "is-test-mode": false },
    },
  };
}

describe("Mailgun", () => {
  it("a signed permanent failure, matched by our Message-ID, suppresses its reader", async () => {
    expect((await post("/webhooks/mailgun", JSON.stringify(mailgunFailure(10)))).status).toBe(200);
    expect(await statusOf(database, reader(10))).toBe("bounced");
  });

  it("a temporary failure (Mailgun retries it) changes nothing", async () => {
    const before = await snapshot();
    const event = mailgunFailure(11);
    const temporary = {
      ...event,
      "event-data": { ...event["event-data"], severity: "temporary", reason: "generic" },
    };
    expect((await post("/webhooks/mailgun", JSON.stringify(temporary))).status).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  it("a bad signature, a stale timestamp or a reused token gets 401 and changes nothing", async () => {
    const before = await snapshot();
    const bad = mailgunFailure(11, { ...mailgunSignature(mailgunKey), signature: "0".repeat(64) });
    const wrongKey = mailgunFailure(11, mailgunSignature("key-someone-elses-key"));
    const stale = mailgunFailure(11, mailgunSignature(mailgunKey, Math.floor(Date.now() / 1000) - 600));
    const unsigned = { "event-data": mailgunFailure(11)["event-data"] };
    for (const body of [bad, wrongKey, stale, unsigned]) {
      expect((await post("/webhooks/mailgun", JSON.stringify(body))).status).toBe(401);
    }
    expect(await snapshot()).toEqual(before);
    // A captured genuine call replayed: its token was used once already.
    const genuine = mailgunFailure(11);
    expect(
      (
        await post(
          "/webhooks/mailgun",
          JSON.stringify({
            ...genuine,
            "event-data": { ...genuine["event-data"], recipient: reader(12), id: "other" },
          }),
        )
      ).status,
    ).toBe(200);
    expect(await snapshot()).toEqual(before);
    expect((await post("/webhooks/mailgun", JSON.stringify(genuine))).status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });
});

describe("SendGrid", () => {
  const batch = () =>
    JSON.stringify([
      {
        email: reader(12),
        timestamp: Math.floor(Date.now() / 1000),
        "smtp-id": ourId(12),
        event: "bounce",
        category: ["newsletter"],
        sg_event_id: `ZHJvcC0${randomBytes(6).toString("hex")}`,
        sg_message_id: `${relayId(12)}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0`,
        reason: "550 5.1.1 The email account that you tried to reach does not exist.",
        status: "5.1.1",
        type: "bounce",
      },
      {
        email: reader(13),
        timestamp: Math.floor(Date.now() / 1000),
        "smtp-id": ourId(13),
        event: "spamreport",
        sg_event_id: `c3BhbXJl${randomBytes(6).toString("hex")}`,
        sg_message_id: `${relayId(13)}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0`,
      },
      {
        email: reader(9),
        timestamp: Math.floor(Date.now() / 1000),
        "smtp-id": ourId(9),
        event: "delivered",
        response: "250 OK",
        sg_event_id: `ZGVsaXZl${randomBytes(6).toString("hex")}`,
        sg_message_id: `${relayId(9)}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0`,
      },
    ]);

  it("a forged, tampered, stale or unsigned batch gets 401 and changes nothing", async () => {
    const before = await snapshot();
    const body = batch();
    const other = sendgridSigner();
    const old = Math.floor(Date.now() / 1000) - 900;
    const attempts: [string, Record<string, string>][] = [
      [body, other.headers(body)],
      [body.replace(reader(12), reader(9)), sendgrid.headers(body)],
      [body, sendgrid.headers(body, old)],
      [body, { "Content-Type": "application/json" }],
    ];
    for (const [text, headers] of attempts)
      expect((await post("/webhooks/sendgrid", text, headers)).status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("a signed batch suppresses the bounced and the complaining reader and ignores the delivered one; a replay gets 401", async () => {
    const body = batch();
    const headers = sendgrid.headers(body);
    expect((await post("/webhooks/sendgrid", body, headers)).status).toBe(200);
    expect(await statusOf(database, reader(12))).toBe("bounced");
    expect(await statusOf(database, reader(13))).toBe("complained");
    expect(await statusOf(database, reader(9))).toBe("active");
    expect((await post("/webhooks/sendgrid", body, headers)).status).toBe(401);
  });
});

describe("settings", () => {
  it("a webhook whose setting is unset answers 404", async () => {
    const bare = await createApp({
      ...service.deps,
      webhooks: webhookDeps({
        postmarkAuth: undefined,
        mailgunSigningKey: undefined,
        sendgridPublicKey: undefined,
        snsTopicArns: undefined,
      }),
    });
    for (const path of ["/webhooks/ses", "/webhooks/postmark", "/webhooks/mailgun", "/webhooks/sendgrid"]) {
      expect((await bare.request(path, { method: "POST", body: "{}" })).status).toBe(404);
    }
  });

  it("SNS_TOPIC_ARNS takes comma-separated topic ARNs and refuses anything else when serve starts", () => {
    const other = "arn:aws:sns:us-east-1:123456789012:complaints.fifo";
    expect(loadConfig(["snsTopicArns"], { SNS_TOPIC_ARNS: ` ${ourTopic}, ${other} ` })).toEqual({
      snsTopicArns: [ourTopic, other],
    });
    expect(loadConfig(["snsTopicArns"], {})).toEqual({ snsTopicArns: undefined });
    for (const bad of [
      "*",
      "arn:aws:sns:eu-west-1:*:ses-bounces",
      "arn:aws:sqs:eu-west-1:123456789012:q",
      ",",
    ])
      expect(() => loadConfig(["snsTopicArns"], { SNS_TOPIC_ARNS: bad }), bad).toThrow(/SNS_TOPIC_ARNS/);
  });

  it("after all this, exactly the readers reported by genuine calls are suppressed", async () => {
    const suppressed = (await snapshot()).rows.filter((r) => r.status !== "active").map((r) => r.email);
    expect(suppressed.sort()).toEqual([0, 1, 3, 7, 8, 10, 12, 13].map(reader).sort());
    expect(await suppressedCount(database)).toBe(8);
  });

  it("staff see where each of the send's bounces came from, and why", async () => {
    const [send] = await database.query<{ id: string }>(sql`select id from sends`);
    const sources = await bounceSources(database.db, send?.id ?? "");
    const summary = sources.map((s) => `${s.label} ${s.type} ${s.reason} ${s.count}`).sort();
    expect(summary).toEqual(
      [
        "webhook: ses hard user_unknown 2",
        "webhook: ses complaint complaint 1",
        "webhook: ses soft user_unknown 1",
        "webhook: postmark hard user_unknown 1",
        "webhook: postmark complaint complaint 1",
        "webhook: mailgun hard user_unknown 1",
        "webhook: sendgrid hard user_unknown 1",
        "webhook: sendgrid complaint complaint 1",
      ].sort(),
    );
  });
});

import type { KeyObject } from "node:crypto";
import { type Context, Hono } from "hono";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ApplyReportDeps } from "../bounces/apply.js";
import { applyProviderEvent, type Provider, type ProviderEvent } from "../bounces/providers/event.js";
import { mailgunEvents, mailgunMaxSkewSeconds, verifyMailgun } from "../bounces/providers/mailgun.js";
import { postmarkAuthorized, postmarkEvents } from "../bounces/providers/postmark.js";
import {
  sendgridEvents,
  sendgridMaxSkewSeconds,
  sendgridPublicKey,
  verifySendgrid,
} from "../bounces/providers/sendgrid.js";
import { sesEvents } from "../bounces/providers/ses.js";
import {
  isAmazonSnsUrl,
  type SnsKeySource,
  snsMaxAgeMs,
  verifySnsMessage,
} from "../bounces/providers/sns.js";

/** What the provider webhooks need, wired by `digest serve` (or a test). */
export interface WebhookDeps {
  report: ApplyReportDeps;
  log: Pick<Logger, "info" | "warn">;
  /** Signing keys for SNS messages (SNS_CERT_FILE, or the certificate at SigningCertURL, cached). */
  snsKeys: SnsKeySource;
  /**
   * SNS_TOPIC_ARNS: the only topics /webhooks/ses reads or subscribes to; without them it answers
   * 404. Any AWS account can point its own topic at this URL and sign with Amazon's key, so a good
   * signature says nothing about whose topic it is.
   */
  snsTopicArns?: readonly string[];
  /** Visits an SNS SubscribeURL (already checked to be Amazon's). */
  confirmSubscription(url: string): Promise<void>;
  postmarkAuth?: string;
  mailgunSigningKey?: string;
  /** WEBHOOK_SENDGRID_PUBLIC_KEY as given (base64 DER SPKI). */
  sendgridPublicKey?: string;
  /** True only the first time `key` is seen within `ttlSeconds` (Redis SET NX EX): replay defence. */
  rememberOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a remembered key, so a provider's retry of a call we failed to process is accepted. */
  forget(key: string): Promise<void>;
  now?: () => number;
}

export type EventOutcome = "applied" | "duplicate" | "unmatched" | "rejected";

/** Provider webhooks carry batches; a body beyond this is refused. */
export const maxWebhookBytes = 1024 * 1024;

/**
 * POST /webhooks/{ses,postmark,mailgun,sendgrid} (SPEC §4). A webhook whose setting is unset answers
 * 404; anything unsigned, badly signed, stale or replayed answers 401 and changes nothing. A signed
 * call answers 200 even when an event matches none of our deliveries (it is logged and counted): a
 * provider retries anything else, and retrying cannot make it match.
 */
export function webhookRoutes(deps: WebhookDeps, count: (provider: Provider, outcome: EventOutcome) => void) {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  let sendgridKey: KeyObject | undefined;

  const snsTopics = new Set(deps.snsTopicArns ?? []);

  const refuse = (c: Context, provider: Provider, why: string) => {
    count(provider, "rejected");
    deps.log.warn({ provider, why }, "webhook: refused");
    return c.json({ error: "not signed by the provider" }, 401);
  };
  /** Signed or not, a message about a topic that is not ours is no business of this service. */
  const foreignTopic = (c: Context, topic: unknown) => {
    count("ses", "rejected");
    deps.log.warn(
      { provider: "ses", topic: String(topic).slice(0, 300) },
      "webhook: refused: not our SNS topic",
    );
    return c.json({ error: "not one of the SNS topics in SNS_TOPIC_ARNS" }, 403);
  };
  const apply = async (c: Context, events: ProviderEvent[]) => {
    for (const event of events) {
      const outcome = await applyProviderEvent(deps.report, event);
      if (outcome.applied && outcome.recorded.duplicate) count(event.provider, "duplicate");
      else if (outcome.applied) count(event.provider, "applied");
      else {
        count(event.provider, "unmatched");
        deps.log.info(
          { provider: event.provider, event: event.eventId, type: event.bounce.type, why: outcome.why },
          "webhook: event not applied",
        );
      }
    }
    return c.json({ ok: true, events: events.length });
  };
  /**
   * Runs `handle` for a call seen for the first time within `ttlSeconds`, else refuses it as
   * replayed. A call that fails is forgotten again, so the provider's retry is accepted.
   */
  const once = async (
    c: Context,
    provider: Provider,
    replay: { key: string; ttlSeconds: number; why: string },
    handle: () => Promise<Response>,
  ) => {
    if (!(await deps.rememberOnce(replay.key, replay.ttlSeconds))) return refuse(c, provider, replay.why);
    try {
      return await handle();
    } catch (error) {
      await deps.forget(replay.key);
      throw error;
    }
  };

  app.post("/ses", async (c) => {
    if (snsTopics.size === 0) return c.notFound();
    const body = parseJson(await bodyText(c));
    // The topic is checked before the signature, so a stranger's topic never costs a certificate fetch.
    const topic =
      typeof body === "object" && body !== null ? (body as { TopicArn?: unknown }).TopicArn : undefined;
    if (typeof topic === "string" && !snsTopics.has(topic)) return foreignTopic(c, topic);
    const verdict = await verifySnsMessage(body, deps.snsKeys, now());
    if (!verdict.ok) return refuse(c, "ses", verdict.why);
    const { envelope } = verdict;
    if (!snsTopics.has(envelope.topicArn)) return foreignTopic(c, envelope.topicArn);
    // SNS signs each delivery with the same MessageId; a replay within the age limit is refused.
    const replay = {
      key: `sns:${envelope.messageId}`,
      ttlSeconds: snsMaxAgeMs / 1000,
      why: "replayed message",
    };
    return once(c, "ses", replay, async () => {
      if (envelope.type === "SubscriptionConfirmation") {
        if (!envelope.subscribeUrl || !isAmazonSnsUrl(envelope.subscribeUrl))
          return refuse(c, "ses", "subscribe URL not on an Amazon SNS host");
        // The URL names the topic it subscribes to: it must be the (signed, allowed) topic of the message.
        if (new URL(envelope.subscribeUrl).searchParams.get("TopicArn") !== envelope.topicArn)
          return foreignTopic(c, new URL(envelope.subscribeUrl).searchParams.get("TopicArn"));
        await deps.confirmSubscription(envelope.subscribeUrl);
        deps.log.info({ topic: envelope.topicArn }, "webhook: SNS subscription confirmed");
        return c.json({ ok: true });
      }
      if (envelope.type === "UnsubscribeConfirmation") return c.json({ ok: true });
      return apply(c, sesEvents(parseJson(envelope.message)));
    });
  });

  app.post("/postmark", async (c) => {
    if (!deps.postmarkAuth) return c.notFound();
    if (!postmarkAuthorized(c.req.header("authorization"), deps.postmarkAuth)) {
      c.header("WWW-Authenticate", 'Basic realm="webhooks"');
      return refuse(c, "postmark", "wrong or missing basic auth");
    }
    return apply(c, postmarkEvents(parseJson(await bodyText(c))));
  });

  app.post("/mailgun", async (c) => {
    if (!deps.mailgunSigningKey) return c.notFound();
    const payload = parseJson(await bodyText(c));
    const verdict = verifyMailgun(payload, deps.mailgunSigningKey, Math.floor(now() / 1000));
    if (!verdict.ok) return refuse(c, "mailgun", verdict.why);
    const replay = {
      key: `mailgun:${verdict.token}`,
      ttlSeconds: 2 * mailgunMaxSkewSeconds,
      why: "token reused",
    };
    return once(c, "mailgun", replay, () => apply(c, mailgunEvents(payload)));
  });

  app.post("/sendgrid", async (c) => {
    if (!deps.sendgridPublicKey) return c.notFound();
    sendgridKey ??= sendgridPublicKey(deps.sendgridPublicKey);
    const raw = Buffer.from(await c.req.arrayBuffer());
    const signature = c.req.header("x-twilio-email-event-webhook-signature");
    const verdict = verifySendgrid(
      sendgridKey,
      raw,
      signature,
      c.req.header("x-twilio-email-event-webhook-timestamp"),
      Math.floor(now() / 1000),
    );
    if (!verdict.ok) return refuse(c, "sendgrid", verdict.why);
    const replay = {
      key: `sendgrid:${signature}`,
      ttlSeconds: 2 * sendgridMaxSkewSeconds,
      why: "replayed call",
    };
    return once(c, "sendgrid", replay, () => apply(c, sendgridEvents(parseJson(raw.toString("utf8")))));
  });
  return app;
}

/** Replay memory in Redis (shared by every serve process), under the queue prefix. */
export function redisReplayMemory(
  redis: Redis,
  prefix: string,
): Pick<WebhookDeps, "rememberOnce" | "forget"> {
  const name = (key: string) => `${prefix}:webhook-seen:${key}`;
  return {
    async rememberOnce(key, ttlSeconds) {
      return (await redis.set(name(key), "1", "EX", Math.max(1, Math.ceil(ttlSeconds)), "NX")) === "OK";
    },
    async forget(key) {
      await redis.del(name(key));
    },
  };
}

/** Visits an SNS SubscribeURL; a redirect elsewhere is refused. */
export async function visitSubscribeUrl(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: "error" });
  if (!response.ok) throw new Error(`SNS subscription confirmation answered ${response.status}`);
}

async function bodyText(c: Context): Promise<string> {
  return c.req.text();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

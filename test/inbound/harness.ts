import { join } from "node:path";
import { createTransport } from "nodemailer";
import { type RunningServe, type ServeSettings, startServe } from "../../src/cli/serve-process.js";
import type { inboundLimits } from "../../src/inbound/server.js";
import { type Logger, silentLogger } from "../../src/log.js";
import { openQueue, redisConnection, type TransactionalJob } from "../../src/queues.js";
import { createMailer } from "../../src/sending/mailer.js";
import { startTransactionalWorker, type TransactionalWorker } from "../../workers/transactional-worker.js";
import { repoRoot } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";
import { freePort, type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { identity, newsletter, secret } from "../sending/harness.js";

export interface InboundService {
  database: TestDatabase;
  /** Where the service's own mail (confirmations, goodbyes, the issue) is captured. */
  outbox: SmtpCapture;
  serve: RunningServe;
  transactional: TransactionalWorker;
  domain: string;
  /** The queue prefix on the shared Redis. */
  prefix: string;
  /** A nodemailer client that talks plain SMTP to the inbound server. */
  client(options?: { pool?: boolean; maxConnections?: number }): ReturnType<typeof createTransport>;
  /**
   * Resolves once the transactional queue holds no job waiting, running or due for a retry: every
   * mail the service queued so far has then been sent, and is in `outbox`.
   */
  transactionalIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The settings `digest serve` gets in tests: free ports, the shared Redis under `prefix`, the
 * sending harness's identity and secret, nothing optional; `overrides` set the rest.
 */
export async function serveSettingsFor(
  prefix: string,
  overrides: Partial<ServeSettings> = {},
): Promise<ServeSettings> {
  const port = overrides.port ?? (await freePort());
  return {
    redisUrl: sharedRedisUrl,
    queuePrefix: prefix,
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    secret,
    adminToken: undefined,
    newsletterFile: join(repoRoot, "newsletter.yaml"),
    mailFrom: `News <news@${identity.domain}>`,
    mailDomain: identity.domain,
    inboundSmtpPort: await freePort(),
    softBounceLimit: 3,
    deferHorizonSeconds: 3600,
    sendBatchSize: 50,
    trustedProxies: undefined,
    metricsToken: undefined,
    inboundTlsCertFile: undefined,
    inboundTlsKeyFile: undefined,
    ...overrides,
  };
}

/**
 * `digest serve` as a test drives it: the HTTP app and the inbound SMTP server on free ports, wired
 * to a fresh database, a unique queue prefix on the shared Redis, and the transactional worker
 * mailing into a capture server. Uses the sending harness's identity and secret, so VERP return
 * paths of its sends lead back here.
 */
export async function startInboundService(
  label: string,
  options: { inboundLimits?: typeof inboundLimits; log?: Logger; settings?: Partial<ServeSettings> } = {},
): Promise<InboundService> {
  const database = await createTestDatabase();
  const outbox = await startSmtpCapture();
  const prefix = uniquePrefix(label);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const serve = await startServe(
    await serveSettingsFor(prefix, { port, publicUrl, ...options.settings }),
    database,
    options.log ?? silentLogger,
    options,
  );
  const transactional = startTransactionalWorker({
    db: database.db,
    mailer: createMailer({ smtpUrl: outbox.url, pool: 1 }),
    connection: redisConnection({ redisUrl: sharedRedisUrl, queuePrefix: prefix }, "worker"),
    queuePrefix: prefix,
    secret,
    identity: { ...identity, publicUrl },
    newsletter,
    ...(options.settings?.languages ? { languages: options.settings.languages } : {}),
  });
  return {
    database,
    outbox,
    serve,
    transactional,
    domain: identity.domain,
    prefix,
    client: (options = {}) =>
      createTransport({
        host: "127.0.0.1",
        port: serve.inboundPort,
        secure: false,
        ignoreTLS: true,
        ...options,
      }),
    async transactionalIdle(timeoutMs = 20_000) {
      const settings = { redisUrl: sharedRedisUrl, queuePrefix: prefix };
      const connection = redisConnection(settings, "producer");
      const queue = openQueue<TransactionalJob>("transactional", settings, connection);
      try {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
          if (Object.values(counts).every((n) => n === 0)) return;
          if (Date.now() > deadline)
            throw new Error(`transactional jobs still queued: ${JSON.stringify(counts)}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      } finally {
        await queue.close();
        connection.disconnect();
      }
    },
    async close() {
      await transactional.close();
      await serve.close();
      await outbox.close();
      await dropPrefix(prefix);
    },
  };
}

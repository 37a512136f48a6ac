import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { sql } from "drizzle-orm";
import { createTransport } from "nodemailer";
import { startWorkers, workerSettings } from "../../../workers/main.js";
import { embeddedDataDir, environment, loadConfig, resolvePublicUrl } from "../../config.js";
import { databaseTarget, openDatabase } from "../../db/connect.js";
import { type Database, query } from "../../db/database.js";
import { migrateDatabase } from "../../db/migrate.js";
import { saveIssue } from "../../issues/store.js";
import { createLogger } from "../../log.js";
import { loadNewsletter } from "../../newsletter.js";
import { packageRoot } from "../../paths.js";
import { openProducer, queueSettingsOf } from "../../queues.js";
import { resolveIdentity } from "../../sending/identity.js";
import { startSend } from "../../sending/plan.js";
import { readerLinks, returnPath } from "../../sending/reader-links.js";
import { loadSendStatus } from "../../sending/status.js";
import { untilStopSignal } from "../../signals.js";
import { followSend } from "../send-command.js";
import { serveSettings, startServe } from "../serve-process.js";
import { startOutbox } from "./outbox.js";
import { freePort, startPrivateRedis } from "./private-redis.js";

export interface DemoOptions {
  readers: number;
  /** Keep serving after the summary, until Ctrl-C. */
  serve: boolean;
}

const say = (line = "") => process.stderr.write(`${line}\n`);

/**
 * The whole pipeline in one process, in a sandbox: its own PGlite under .data/, a private
 * redis-server (or REDIS_URL under a queue prefix of its own), the HTTP service, the inbound SMTP
 * server and a worker, sending the example issue to sample readers through a capture server that
 * stores .eml files. Whatever `.env` says, it never reads DATABASE_URL or SMTP_URL (nor the
 * secrets, the public URL, DKIM or the bounce mailbox): a demo run in a production folder must not
 * add sample readers to the real list, publish an issue, or mail anyone real.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const env = environment();
  const cwd = process.cwd();
  const dataDir = join(cwd, ".data");
  const outboxDir = join(dataDir, "outbox");
  // Each run starts from an empty outbox, so what is there is what this run sent.
  const emptied = emptyOutbox(outboxDir);
  const outbox = await startOutbox(outboxDir);
  const redis = env.REDIS_URL ? undefined : await startPrivateRedis();
  // The ports .env names may be the real service's, running right now: those or any free ones.
  const port = await freePort(Number(env.PORT) || 3000);
  const sandbox: Record<string, string | undefined> = {
    ...env,
    DATABASE_URL: undefined,
    SMTP_URL: outbox.url,
    REDIS_URL: env.REDIS_URL ?? redis?.url,
    // A shared Redis is only ever touched under a prefix of the demo's own, whatever QUEUE_PREFIX says.
    QUEUE_PREFIX: "digest-demo",
    SECRET: randomBytes(32).toString("base64url"),
    ADMIN_TOKEN: undefined,
    METRICS_TOKEN: undefined,
    PUBLIC_URL: undefined,
    PORT: String(port),
    INBOUND_SMTP_PORT: String(await freePort(Number(env.INBOUND_SMTP_PORT) || 2525)),
    INBOUND_TLS_CERT_FILE: undefined,
    INBOUND_TLS_KEY_FILE: undefined,
    TRUSTED_PROXIES: undefined,
    DKIM_DOMAIN: undefined,
    DKIM_SELECTOR: undefined,
    DKIM_PRIVATE_KEY_FILE: undefined,
    SMTP_CA_FILE: undefined,
    SMTP_TLS: undefined,
    // The demo's made-up sends must never read (and move) a real bounce mailbox.
    BOUNCE_IMAP_URL: undefined,
    SNS_CERT_FILE: undefined,
    SNS_TOPIC_ARNS: undefined,
    WEBHOOK_POSTMARK_AUTH: undefined,
    WEBHOOK_MAILGUN_SIGNING_KEY: undefined,
    WEBHOOK_SENDGRID_PUBLIC_KEY: undefined,
    LOG_LEVEL: env.LOG_LEVEL ?? "error",
    // Outside a checkout the demo still has the Alliance Digest's settings to show.
    NEWSLETTER_FILE:
      env.NEWSLETTER_FILE ??
      (existsSync(join(cwd, "newsletter.yaml")) ? undefined : join(packageRoot, "newsletter.yaml")),
  };
  const settings = loadConfig([...serveSettings, ...workerSettings, "logLevel"], sandbox);
  const log = createLogger(settings.logLevel);
  const database = await openDatabase(databaseTarget(undefined, cwd));
  const cleanup: Array<() => Promise<void>> = [
    async () => redis?.stop(),
    () => outbox.close(),
    () => database.close(),
  ];
  try {
    say(
      `database: embedded PGlite in ${relative(cwd, embeddedDataDir(cwd))} (DATABASE_URL is never used by the demo)`,
    );
    say(
      `redis:    ${redis ? `private redis-server at ${redis.url} (stopped at exit)` : `REDIS_URL under queue prefix ${settings.queuePrefix}`}`,
    );
    say(`outbox:   ${relative(cwd, outbox.dir)}/, emptied first (${emptied} old messages removed)`);
    await migrateDatabase(database);
    const newsletter = loadNewsletter(settings.newsletterFile);
    const issueFile = join(packageRoot, "examples", "issues", "vol-2-6.md");
    const { issue } = await saveIssue(database.db, readFileSync(issueFile, "utf8"), newsletter, issueFile);
    await addSampleReaders(database, options.readers);
    say(`issue:    ${issue.subject}`);
    say(`readers:  ${options.readers} sample readers (reader-NNN@example.com)`);

    const workers = await startWorkers(settings, database, log);
    cleanup.unshift(() => workers.close());
    const serve = await startServe(settings, database, log);
    cleanup.unshift(() => serve.close());

    const producer = openProducer(queueSettingsOf(settings));
    cleanup.unshift(() => producer.close());
    const started = await startSend(
      { database, queue: producer.deliveries, batchSize: settings.sendBatchSize },
      { issueId: issue.id, again: true },
    );
    say(`send:     ${started.sendId}, ${started.deliveries} deliveries at SEND_RATE ${settings.sendRate}/s`);
    const followed = await followSend(database, started.sendId);
    if (followed !== 0) return followed;

    const identity = resolveIdentity({ ...settings, publicUrl: resolvePublicUrl(settings).url }, newsletter);
    const [bouncer, leaver] = await query<{ id: number; subscriber_id: string; email: string }>(
      database.db,
      sql`
      select d.id::float8 as id, d.subscriber_id, s.email from deliveries d join subscribers s on s.id = d.subscriber_id
      where d.send_id = ${started.sendId} and d.status = 'sent' and s.status = 'active' order by d.id limit 2`,
    );
    if (bouncer) {
      await mailBounce(serve.inboundPort, returnPath(identity, settings.secret, bouncer.id), bouncer.email);
      await waitForStatus(database, bouncer.email, "bounced");
      say(`bounce:   a DSN for ${bouncer.email} came back to its VERP address; the reader is now bounced`);
    }
    if (leaver) {
      const links = readerLinks(
        identity,
        settings.secret,
        { subscriberId: leaver.subscriber_id, email: leaver.email },
        issue.slug,
      );
      const local = links.unsubscribeUrl.replace(identity.publicUrl, `http://127.0.0.1:${serve.httpPort}`);
      const res = await fetch(local, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
      });
      await waitForStatus(database, leaver.email, "unsubscribed");
      say(
        `unsub:    ${leaver.email} clicked one-click unsubscribe (HTTP ${res.status}); the reader is now unsubscribed`,
      );
    }
    // Let the goodbye mail reach the outbox before the summary counts it.
    await new Promise((r) => setTimeout(r, 1500));

    const status = await loadSendStatus(database, started.sendId);
    say();
    say("Summary");
    say(
      `  sent ${status.sent} of ${status.total}; bounced ${status.bounced}, failed ${status.failed}, ambiguous ${status.ambiguous}`,
    );
    say(
      `  ${outbox.count()} messages of this run stored as .eml files in ${relative(cwd, outbox.dir) || "."}/ (open one in a mail client; the outbox was emptied when the run began)`,
    );
    // The web address only means something while it is served.
    if (options.serve)
      say(`  web:    ${identity.publicUrl}/  (archive: ${identity.publicUrl}/archive/${issue.slug})`);
    else say("  web:    run `npx digest demo --serve` to browse the archive and the reader pages");
    say(`  data:   ${relative(cwd, dataDir)}/ (delete it to start over)`);
    say(`  status: npx digest status ${started.sendId}`);
    process.stdout.write(
      `${JSON.stringify({ sendId: started.sendId, ...pick(status), outbox: outbox.dir })}\n`,
    );
    if (options.serve) {
      say("\nServing until Ctrl-C.");
      await untilStopSignal();
    }
    return 0;
  } finally {
    for (const step of cleanup)
      await step().catch((error: unknown) => log.warn({ err: error }, "demo: cleanup"));
  }
}

/** Removes the .eml files of earlier runs; returns how many. */
function emptyOutbox(dir: string): number {
  if (!existsSync(dir)) return 0;
  const old = readdirSync(dir).filter((f) => f.endsWith(".eml"));
  for (const f of old) rmSync(join(dir, f), { force: true });
  return old.length;
}

function pick(s: Awaited<ReturnType<typeof loadSendStatus>>) {
  return {
    status: s.status,
    total: s.total,
    sent: s.sent,
    bounced: s.bounced,
    failed: s.failed,
    ambiguous: s.ambiguous,
  };
}

async function addSampleReaders(database: Database, n: number): Promise<void> {
  await query(
    database.db,
    sql`
    insert into subscribers (email, name, status, consent_source, consent_at, confirmed_at)
    select 'reader-' || lpad(i::text, 3, '0') || '@example.com', 'Sample Reader ' || i, 'active', 'import', now(), now()
    from generate_series(1, ${n}) as i
    on conflict do nothing`,
  );
}

/** A standard RFC 3464 report, as a receiving server would send it, into our inbound server. */
async function mailBounce(inboundPort: number, verp: string, reader: string): Promise<void> {
  const dsn = [
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
    `To: ${verp}`,
    "Subject: Undelivered Mail Returned to Sender",
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"',
    "",
    "--dsn",
    "Content-Type: text/plain",
    "",
    "Your message could not be delivered: the mailbox does not exist.",
    "--dsn",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.com",
    "",
    `Final-Recipient: rfc822; ${reader}`,
    "Action: failed",
    "Status: 5.1.1",
    `Diagnostic-Code: smtp; 550 5.1.1 <${reader}>: Recipient address rejected: User unknown`,
    "--dsn--",
    "",
  ].join("\r\n");
  const transport = createTransport({ host: "127.0.0.1", port: inboundPort, secure: false, ignoreTLS: true });
  await transport.sendMail({ envelope: { from: "", to: [verp] }, raw: dsn });
  transport.close();
}

async function waitForStatus(database: Database, email: string, status: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [row] = await query<{ status: string }>(
      database.db,
      sql`select status from subscribers where email = ${email}`,
    );
    if (row?.status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

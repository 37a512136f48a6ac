import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
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
 * The whole pipeline in one process on embedded defaults: PGlite (unless DATABASE_URL), a private
 * redis-server (unless REDIS_URL), the HTTP service, the inbound SMTP server and a worker, sending
 * the example issue to sample readers through a capture server that stores .eml files. It never
 * mails anyone real: SMTP_URL is ignored.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const env = environment();
  const cwd = process.cwd();
  const dataDir = join(cwd, ".data");
  const outbox = await startOutbox(join(dataDir, "outbox"));
  const redis = env.REDIS_URL ? undefined : await startPrivateRedis();
  const port = env.PORT ? Number(env.PORT) : await freePort(3000);
  const settings = loadConfig([...serveSettings, ...workerSettings, "databaseUrl", "logLevel"], {
    ...env,
    SMTP_URL: outbox.url,
    REDIS_URL: env.REDIS_URL ?? redis?.url,
    SECRET: env.SECRET ?? randomBytes(32).toString("base64url"),
    PORT: String(port),
    INBOUND_SMTP_PORT: env.INBOUND_SMTP_PORT ?? String(await freePort(2525)),
    LOG_LEVEL: env.LOG_LEVEL ?? "error",
    // Outside a checkout the demo still has the Alliance Digest's settings to show.
    NEWSLETTER_FILE:
      env.NEWSLETTER_FILE ??
      (existsSync(join(cwd, "newsletter.yaml")) ? undefined : join(packageRoot, "newsletter.yaml")),
  });
  const log = createLogger(settings.logLevel);
  const database = await openDatabase(databaseTarget(settings.databaseUrl, cwd));
  const cleanup: Array<() => Promise<void>> = [
    async () => redis?.stop(),
    () => outbox.close(),
    () => database.close(),
  ];
  try {
    say(
      `database: ${settings.databaseUrl ? "DATABASE_URL" : `embedded PGlite in ${relative(cwd, embeddedDataDir(cwd))}`}`,
    );
    say(`redis:    ${redis ? `private redis-server at ${redis.url} (stopped at exit)` : "REDIS_URL"}`);
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
      `  ${outbox.count()} messages stored as .eml files in ${relative(cwd, outbox.dir) || "."}/ (open one in a mail client)`,
    );
    say(`  web:    ${identity.publicUrl}/  (archive: ${identity.publicUrl}/archive/${issue.slug})`);
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

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import postgres from "postgres";
import { SMTPServer } from "smtp-server";
import { openDatabase } from "../src/db/connect.js";
import type { Database } from "../src/db/database.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { saveIssue } from "../src/issues/store.js";
import { loadNewsletter } from "../src/newsletter.js";
import { type DeliveriesJob, openQueue, queueNames } from "../src/queues.js";
import { dkimSigner } from "../src/sending/dkim.js";
import { resolveIdentity } from "../src/sending/identity.js";
import { enqueueBatches, startSend } from "../src/sending/plan.js";
import { messageId, readerLinks, returnPath } from "../src/sending/reader-links.js";
import {
  buildTemplate,
  messageBuffers,
  type SplicedParts,
  splice,
  spliceMessage,
} from "../src/sending/template.js";

/**
 * `npm run bench`: the example issue to N readers (BENCH_READERS, default 100,000) through real
 * `digest worker` processes into a local SMTP sink, with same-run baselines. Not a test: it prints.
 */
const root = resolve(import.meta.dirname, "..");
const readers = Number(process.env.BENCH_READERS ?? 100_000);
const workers = Number(process.env.BENCH_WORKERS ?? 2);
/** Messages per smtp-source run: as many as the pipeline sends, up to 20,000. */
const baselineMessages = Number(process.env.BENCH_BASELINE ?? Math.min(readers, 20_000));
/** `plan`: only plan the send (for 1M readers); `pipeline`: no DKIM pass and no baselines. */
const only = process.env.BENCH_ONLY;
/**
 * Node flags for the worker processes: by default the ones the README recommends for workers
 * (NODE_OPTIONS): a 2 MB young generation and an old generation that grows by half, not up to 4x,
 * between collections. Measured: same msgs/s, peak RSS ~100 MB instead of ~200 MB. Add e.g.
 * `--cpu-prof --cpu-prof-dir=DIR` to profile the workers.
 */
const workerNodeFlags = (
  process.env.BENCH_WORKER_NODE_FLAGS ?? "--max-semi-space-size=2 --heap-growing-percent=50"
)
  .split(" ")
  .filter(Boolean);
const adminUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const secret = "bench-secret-0123456789abcdef-0123456789";
const log = (s: string) => process.stderr.write(`${s}\n`);
const newsletter = loadNewsletter(join(root, "newsletter.yaml"));
const identity = resolveIdentity(
  { publicUrl: "https://news.example.org", mailDomain: "example.org" },
  newsletter,
);

export async function benchSend(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {
    readers,
    workers,
    workerNodeFlags: workerNodeFlags.join(" ") || "none",
  };
  // BENCH_SINK_DUMP=DIR: the sink writes each message to a file under DIR, as a real server writes
  // each message to its queue before it answers 250 (the setup the speed target was set with).
  const dumpDir = process.env.BENCH_SINK_DUMP
    ? mkdtempSync(join(process.env.BENCH_SINK_DUMP, "digest-sink-"))
    : undefined;
  if (dumpDir) chmodSync(dumpDir, 0o777); // smtp-sink writes as nobody
  const sink = await startSink(dumpDir);
  figures.sink = `${sink.kind}${dumpDir ? `, each message written to ${dumpDir}` : ""}`;
  const name = `digest_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  const prefix = `bench-${randomBytes(4).toString("hex")}`;
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const queue = openQueue<DeliveriesJob>(queueNames.deliveries, { redisUrl, queuePrefix: prefix }, producer);
  try {
    await migrateDatabase(database);
    const source = readFileSync(join(root, "examples/issues/vol-2-6.md"), "utf8");
    const { issue } = await saveIssue(database.db, source, newsletter);
    await database.query(sql`insert into subscribers (email, status, consent_source)
      select 'reader' || i || '@bench.example', 'active', 'import' from generate_series(1, ${readers}) as i`);

    const plan = { database, queue, batchSize: 250 };
    if (only === "plan") {
      const t0 = performance.now();
      const started = await startSend(plan, { issueId: issue.id, again: true });
      figures.planSeconds = round((performance.now() - t0) / 1000);
      figures.planned = started.deliveries;
      // The enqueue half again: job ids are deterministic, so this re-adds nothing, but it costs
      // the same query and addBulk round trips as the first time.
      const t1 = performance.now();
      figures.batchJobs = await enqueueBatches(plan, started.sendId);
      figures.enqueueSeconds = round((performance.now() - t1) / 1000);
      return figures;
    }
    Object.assign(figures, await spliceMicros(issue.html, issue.text, issue.subject, issue.slug));
    // BENCH_DKIM=0 leaves the signed pipeline out.
    const signed = only !== "pipeline" && process.env.BENCH_DKIM !== "0";
    if (signed) Object.assign(figures, await signMicros(issue.html, issue.text, issue.subject, issue.slug));
    // The unsigned pipeline, smtp-source and the signed pipeline take turns, BENCH_ROUNDS times (3),
    // into the same sink: each round's ratios compare runs a few seconds apart, and the median of
    // the rounds is the figure, so a neighbour's burst on a shared machine moves neither side alone.
    const rounds = only === "pipeline" ? 1 : Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
    const runs: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const started = await startSend(plan, { issueId: issue.id, again: true });
      if (r === 0) figures.planSeconds = round((performance.now() - t0) / 1000);
      const run = await runWorkers(database, started.sendId, url.toString(), prefix, sink.port, false);
      figures.workerPeakRssMb = Math.max(Number(figures.workerPeakRssMb ?? 0), run.peakRssMb);
      const source = only === "pipeline" ? undefined : smtpSource(sink.port, Number(figures.messageBytes));
      if (typeof source === "string") figures.smtpSource = source;
      const turn: Round = {
        rate: run.rate,
        cpu: run.cpuMicrosPerMsg,
        ...(typeof source === "number" ? { baseline: source } : {}),
      };
      if (signed) {
        const again = await startSend(plan, { issueId: issue.id, again: true });
        const dkim = await runWorkers(database, again.sendId, url.toString(), prefix, sink.port, true);
        figures.workerPeakRssMbDkim = Math.max(Number(figures.workerPeakRssMbDkim ?? 0), dkim.peakRssMb);
        Object.assign(turn, { dkimRate: dkim.rate, dkimCpu: dkim.cpuMicrosPerMsg });
      }
      runs.push(turn);
    }
    Object.assign(figures, pipelineFigures(runs));
    return figures;
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    producer.disconnect();
    await database.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    await sink.close();
    if (dumpDir) rmSync(dumpDir, { recursive: true, force: true });
  }
}

interface Round {
  rate: number;
  cpu: number;
  baseline?: number;
  dkimRate?: number;
  dkimCpu?: number;
}

/** Medians over the rounds; ratios are taken within a round, against that round's smtp-source. */
function pipelineFigures(runs: Round[]): Record<string, number | string> {
  const figures: Record<string, number | string> = {};
  const ratio = (rate: number | undefined, baseline: number | undefined) =>
    rate !== undefined && baseline ? round(rate / baseline) : undefined;
  const series = (name: string, values: (number | undefined)[]) => {
    const seen = values.filter((v): v is number => v !== undefined);
    if (seen.length === 0) return;
    figures[name] = median(seen);
    if (runs.length > 1) figures[`${name}Runs`] = seen.join(", ");
  };
  series(
    "smtpSourceMsgsPerSec",
    runs.map((r) => r.baseline),
  );
  series(
    "pipelineMsgsPerSec",
    runs.map((r) => r.rate),
  );
  series(
    "ratioVsSmtpSource",
    runs.map((r) => ratio(r.rate, r.baseline)),
  );
  series(
    "workerCpuMicrosPerMsg",
    runs.map((r) => r.cpu),
  );
  series(
    "pipelineDkimMsgsPerSec",
    runs.map((r) => r.dkimRate),
  );
  series(
    "ratioDkimVsSmtpSource",
    runs.map((r) => ratio(r.dkimRate, r.baseline)),
  );
  series(
    "workerCpuMicrosPerMsgDkim",
    runs.map((r) => r.dkimCpu),
  );
  return figures;
}

/**
 * The pipeline figures side by side, unsigned and DKIM-signed, for `npm run bench` to print
 * after the key: value lines.
 */
export function formatPipelineTable(figures: Record<string, number | string>): string {
  const cell = (key: string, width: number) => String(key ? (figures[key] ?? "-") : "").padStart(width);
  const row = (name: string, rate: string, ratio: string, cpu: string) =>
    `  ${name.padEnd(14)}${cell(rate, 9)}${cell(ratio, 9)}${cell(cpu, 12)}\n`;
  return (
    `pipeline vs smtp-source -d -s 4 into the same sink (${figures.readers} readers, ${figures.workers} workers; median of rounds):\n` +
    `  ${"".padEnd(14)}${"msgs/s".padStart(9)}${"ratio".padStart(9)}${"µs CPU/msg".padStart(12)}\n` +
    row("smtp-source", "smtpSourceMsgsPerSec", "", "") +
    row("unsigned", "pipelineMsgsPerSec", "ratioVsSmtpSource", "workerCpuMicrosPerMsg") +
    row("DKIM-signed", "pipelineDkimMsgsPerSec", "ratioDkimVsSmtpSource", "workerCpuMicrosPerMsgDkim")
  );
}

const round = (n: number) => Math.round(n * 100) / 100;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
};

async function runWorkers(
  database: Database,
  sendId: string,
  databaseUrl: string,
  prefix: string,
  port: number,
  dkim: boolean,
): Promise<{ rate: number; peakRssMb: number; cpuMicrosPerMsg: number }> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    SECRET: secret,
    PUBLIC_URL: "https://news.example.org",
    MAIL_DOMAIN: "example.org",
    NEWSLETTER_FILE: join(root, "newsletter.yaml"),
    SEND_RATE: "1000000",
    SMTP_POOL: process.env.SMTP_POOL ?? "5",
    LOG_LEVEL: "warn",
  };
  if (dkim) {
    const dir = mkdtempSync(join(tmpdir(), "digest-dkim-"));
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    Object.assign(env, {
      DKIM_DOMAIN: "example.org",
      DKIM_SELECTOR: "bench",
      DKIM_PRIVATE_KEY_FILE: join(dir, "key.pem"),
    });
  }
  const children: ChildProcess[] = [];
  const t0 = performance.now();
  for (let i = 0; i < workers; i++)
    children.push(
      spawn(process.execPath, [...workerNodeFlags, join(root, "dist/src/cli/main.js"), "worker"], {
        env,
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
  let peak = 0;
  // The workers' CPU from their first sent message on (start-up, mostly module loading, left out),
  // in a figure a neighbour's load does not move much, unlike msgs/s.
  let cpuAtFirst: { ticks: number; sent: number } | undefined;
  let cpuNow = 0;
  for (;;) {
    for (const c of children) peak = Math.max(peak, peakRss(c.pid));
    // Counting sent rows is a query of its own: only until the first one is seen.
    const [row] = await database.query<{ status: string; sent: number }>(
      cpuAtFirst
        ? sql`select status, 0 as sent from sends where id = ${sendId}`
        : sql`select status, (select count(*)::int from deliveries where send_id = ${sendId} and status = 'sent') as sent
        from sends where id = ${sendId}`,
    );
    cpuNow = children.reduce((sum, c) => sum + cpuTicks(c.pid), 0);
    if (!cpuAtFirst && (row?.sent ?? 0) > 0) cpuAtFirst = { ticks: cpuNow, sent: row?.sent ?? 0 };
    if (row?.status === "done") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const [times] = await database.query<{ first: number; last: number; n: number }>(sql`
    select extract(epoch from min(sent_at))::float8 as first, extract(epoch from max(sent_at))::float8 as last,
      count(*)::int as n from deliveries where send_id = ${sendId} and status = 'sent'`);
  for (const c of children) peak = Math.max(peak, peakRss(c.pid));
  await Promise.all(
    children.map(
      (c) =>
        new Promise((r) => {
          c.once("exit", r);
          c.kill("SIGTERM");
        }),
    ),
  );
  const seconds = times ? Math.max(0.001, times.last - times.first) : (performance.now() - t0) / 1000;
  log(`pipeline${dkim ? " (DKIM)" : ""}: ${times?.n} sent in ${seconds.toFixed(1)} s`);
  const messagesAfterFirst = (times?.n ?? 0) - (cpuAtFirst?.sent ?? 0);
  const cpuMicrosPerMsg =
    cpuAtFirst && messagesAfterFirst > 0
      ? Math.round((((cpuNow - cpuAtFirst.ticks) / clockTicks) * 1e6) / messagesAfterFirst)
      : 0;
  return { rate: Math.round((times?.n ?? 0) / seconds), peakRssMb: Math.round(peak / 1024), cpuMicrosPerMsg };
}

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** VmHWM: the process's peak resident set, in kB. */
function peakRss(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Per-reader CPU cost, in µs: the splice alone (one reader's bytes from the prebuilt message), and
 * the reader's links and return path (three HMAC tokens). The best of five rounds, so a neighbour
 * on the machine does not count against us.
 */
async function spliceMicros(html: string, text: string, subject: string, slug: string) {
  const template = await buildTemplate({ identity, subject, rendition: { html, text } });
  const n = 20_000;
  const sub = "5f0c6c1e-8a3b-4c1d-9e2f-0a1b2c3d4e5f";
  const links = readerLinks(identity, secret, { subscriberId: sub, email: "reader@bench.example" }, slug);
  const best = (work: () => void) => {
    let min = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      work();
      min = Math.min(min, ((performance.now() - t0) * 1000) / n);
    }
    return round(min);
  };
  // As the worker does it: the buffer of a message the server has answered is reused.
  const buffers = messageBuffers();
  const spliceMicros = best(() => {
    for (let i = 0; i < n; i++) {
      const message = spliceMessage(
        template,
        { ...links, email: `reader${i}@bench.example`, messageId: messageId(identity, secret, "s", i) },
        buffers,
      );
      buffers.give(message);
    }
  });
  // With a fresh buffer per message (no reuse): the allocator's share.
  const spliceFreshMicros = best(() => {
    for (let i = 0; i < n; i++)
      spliceMessage(template, {
        ...links,
        email: `reader${i}@bench.example`,
        messageId: messageId(identity, secret, "s", i),
      });
  });
  const readerLinksMicros = best(() => {
    for (let i = 0; i < n; i++) {
      readerLinks(identity, secret, { subscriberId: sub, email: `reader${i}@bench.example` }, slug);
      returnPath(identity, secret, i);
    }
  });
  const messageBytes = spliceMessage(template, {
    ...links,
    messageId: messageId(identity, secret, "s", 1),
  }).length;
  return { messageBytes, spliceMicros, spliceFreshMicros, readerLinksMicros };
}

/**
 * What signing costs per message, in µs of CPU (all threads of this process, so the thread pool's
 * share counts): one RSA-2048 signature alone, our signer on a spliced message (the signature plus
 * the body hash and header canonicalisation) as the worker signs it and from the bytes alone, and
 * with the Ed25519 signature too. CPU rather than
 * wall time, and the best of three rounds, so a busy neighbour moves it less.
 */
async function signMicros(html: string, text: string, subject: string, slug: string) {
  const template = await buildTemplate({ identity, subject, rendition: { html, text } });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const ed25519 = generateKeyPairSync("ed25519").privateKey;
  const n = 300;
  const messages = Array.from({ length: n }, (_, i) => {
    const email = `reader${i}@bench.example`;
    const links = readerLinks(identity, secret, { subscriberId: randomUUID(), email }, slug);
    return splice(template, { ...links, messageId: messageId(identity, secret, "s", i) });
  });
  const best = async (work: (message: Buffer, parts?: SplicedParts) => unknown, fromParts = true) => {
    let min = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const before = process.cpuUsage();
      for (const { raw, parts } of messages) await work(raw, fromParts ? parts : undefined);
      const used = process.cpuUsage(before);
      min = Math.min(min, (used.user + used.system) / n);
    }
    return Math.round(min);
  };
  const header = Buffer.alloc(900, "a");
  const options = { domainName: "example.org", keySelector: "bench", privateKey: rsa };
  return {
    rsaSignatureCpuMicros: await best(() => sign("sha256", header, rsa)),
    // As the worker signs a splice (the body hashed from the template), and from the bytes alone.
    dkimSignCpuMicros: await best(dkimSigner(options)),
    dkimSignFromBytesCpuMicros: await best(dkimSigner(options), false),
    dkimSignEd25519CpuMicros: await best(
      dkimSigner({ ...options, ed25519: { keySelector: "bench-ed25519", privateKey: ed25519 } }),
    ),
  };
}

/**
 * Postfix's smtp-source into the same sink, with kept sessions (`-d`: many messages per connection,
 * as our pool does; `-s 4` sessions) and messages the size of ours: the raw SMTP limit of this
 * machine in this run.
 */
function smtpSource(port: number, messageBytes: number): number | string {
  if (spawnSync("which", ["smtp-source"]).status !== 0) return "smtp-source not installed";
  const n = baselineMessages;
  const t0 = performance.now();
  execFileSync(
    "smtp-source",
    [
      "-d",
      "-s",
      "4",
      "-l",
      String(messageBytes),
      "-m",
      String(n),
      "-f",
      "a@example.org",
      "-t",
      "b@bench.example",
      `127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/** Postfix's smtp-sink (into `dump`, one file per message, when given), else an in-process server. */
async function startSink(dump?: string): Promise<{ kind: string; port: number; close(): Promise<void> }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  if (spawnSync("which", ["smtp-sink"]).status === 0) {
    const child = spawn(
      "smtp-sink",
      [...(dump ? ["-d", `${dump}/%H%M/`] : []), "-u", "nobody", "-m", "1000", `127.0.0.1:${port}`, "1024"],
      {
        stdio: "ignore",
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => child.once("exit", r));
    return {
      kind: "postfix smtp-sink",
      port,
      close: async () => {
        child.kill("SIGTERM");
        await exited;
      },
    };
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _s, cb) {
      stream.on("data", () => {});
      stream.on("end", () => cb());
    },
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return { kind: "in-process smtp-server", port, close: () => new Promise((r) => server.close(() => r())) };
}

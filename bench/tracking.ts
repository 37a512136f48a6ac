import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import postgres from "postgres";
import { openDatabase } from "../src/db/connect.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { createApp } from "../src/http/app.js";
import { clientAddress, memoryRateLimiter } from "../src/http/request.js";
import { saveIssue } from "../src/issues/store.js";
import { loadNewsletter } from "../src/newsletter.js";
import { saveSendLinks } from "../src/tracking/send-links.js";
import { sendKey, signClick, trackingKey } from "../src/tracking/token.js";

/**
 * `npm run bench` (or BENCH_ONLY=tracking): `/r/<token>` against `/healthz` in the same run, on the
 * public app as `digest serve` mounts it (every middleware, clicks recorded), with `ab -n 20000
 * -c 50` each. One send with links and 1,000 deliveries is seeded; the token is one reader's, so
 * the send's links are warm after the first request and every click is recorded (one insert each
 * when quiet, grouped under load; BENCH_RECORD=0 answers without recording, as TRACK_CLICKS=false
 * does). Needs `ab` (apache2-utils). Not a test: it prints.
 */
const root = resolve(import.meta.dirname, "..");
const adminUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const secret = "bench-secret-0123456789abcdef-0123456789";
const requests = Number(process.env.BENCH_AB_REQUESTS ?? 20_000);
const concurrency = Number(process.env.BENCH_AB_CONCURRENCY ?? 50);

export async function benchTracking(): Promise<Record<string, number | string>> {
  const name = `digest_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  const log = pino({ level: "warn" });
  try {
    await migrateDatabase(database);
    const newsletter = loadNewsletter(join(root, "newsletter.yaml"));
    const source = readFileSync(join(root, "examples/issues/vol-2-6.md"), "utf8");
    const { issue } = await saveIssue(database.db, source, newsletter);
    await database.query(sql`insert into subscribers (email, status, consent_source)
      select 'reader' || i || '@bench.example', 'active', 'import' from generate_series(1, 1000) as i`);
    const [send] = await database.query<{ id: string }>(
      sql`insert into sends (issue_id, status, started_at) values (${issue.id}, 'done', now()) returning id`,
    );
    const sendId = send!.id;
    await saveSendLinks(
      database.db,
      sendId,
      Array.from({ length: 12 }, (_, i) => ({
        linkNo: i,
        url: i === 0 ? "http://127.0.0.1/" : `https://example.org/story/${i}`,
        storyAnchor: i === 0 ? null : `story-${i}`,
        headline: i === 0 ? null : `Story ${i}`,
        canary: i === 0,
      })),
    );
    const [delivery] = await database.query<{ id: number }>(
      sql`insert into deliveries (send_id, subscriber_id, status, sent_at)
          select ${sendId}, id, 'sent', now() - interval '1 hour' from subscribers order by email
          returning id::float8 as id`,
    );
    const app = await createApp({
      db: database.db,
      notify: async () => {},
      secret,
      newsletter,
      publicUrl: "http://127.0.0.1",
      limiter: memoryRateLimiter({ limit: 20, windowSeconds: 3600 }),
      clientIp: (c) => clientAddress(c),
      log,
      tracking: { clicks: process.env.BENCH_RECORD !== "0", opens: true },
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((ok) => server.once("listening", () => ok()));
    const { port } = server.address() as AddressInfo;
    const token = signClick(sendKey(trackingKey(secret), sendId), delivery!.id, 3);
    const base = `http://127.0.0.1:${port}`;
    const first = await fetch(`${base}/r/${token}`, { redirect: "manual" });
    if (first.status !== 302) throw new Error(`/r/ answered ${first.status}`);
    const figures: Record<string, number | string> = { requests, concurrency };
    // The app's own CPU per request beside the rates: on a shared machine the rates move with the
    // neighbours' load, the CPU cost much less (Postgres's share of the inserts is not in it).
    const measured = async (target: string) => {
      const before = process.cpuUsage();
      const rate = await ab(target);
      const used = process.cpuUsage(before);
      return { rate, cpu: Math.round((used.user + used.system) / requests) };
    };
    const healthz = await measured(`${base}/healthz`);
    const redirect = await measured(`${base}/r/${token}`);
    const again = await measured(`${base}/healthz`);
    figures.healthzReqPerSec = `${healthz.rate}, then ${again.rate}`;
    figures.redirectReqPerSec = redirect.rate;
    figures.healthzCpuMicrosPerRequest = `${healthz.cpu}, then ${again.cpu}`;
    figures.redirectCpuMicrosPerRequest = redirect.cpu;
    // Let the last group of events land, then count what was recorded against what was asked.
    await new Promise((ok) => setTimeout(ok, 2000));
    const [recorded] = await database.query<{ n: number }>(
      sql`select count(*)::int as n from tracking_events where send_id = ${sendId}`,
    );
    figures.clicksRecorded = `${recorded!.n} of ${requests + 1}`;
    await new Promise<void>((ok) => server.close(() => ok()));
    return figures;
  } finally {
    await database.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

/** Requests per second as ab reports them (non-2xx answers, the 302s, are counted like any). */
function ab(target: string): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn("ab", ["-q", "-n", String(requests), "-c", String(concurrency), target], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("error", (error) =>
      fail(new Error(`ab could not start (install apache2-utils): ${error.message}`)),
    );
    child.on("close", (code) => {
      const rate = /Requests per second:\s+([\d.]+)/.exec(out)?.[1];
      const failed = Number(/Failed requests:\s+(\d+)/.exec(out)?.[1] ?? 0);
      if (code !== 0 || !rate) return fail(new Error(`ab failed (exit ${code}):\n${out}`));
      if (failed > 0) return fail(new Error(`ab saw ${failed} failed requests:\n${out}`));
      ok(Number(rate));
    });
  });
}

import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { signIn, staffMember } from "../console/session.js";
import { adminToken, json, secret, startService } from "../http/harness.js";
import { pipeline, storeIssue } from "../sending/harness.js";
import { checkCapturedMail } from "./mail-check.js";
import { type FuzzRequest, requestArbitrary } from "./requests.js";

/**
 * 10,000 generated malformed requests against the whole HTTP app (public pages, admin API, send
 * routes) with real Postgres and Redis behind it, the transactional worker and a delivery worker
 * mailing into a capture SMTP server. Then every mail the run caused is parsed and checked.
 */
const runs = 10_000;
const service = await startService();
const sending = await pipeline(service.database, service.smtp.url);
await sending.startWorker();
const app = await createApp({ ...service.deps, sending: sending.plan });
afterAll(() => sending.close());

// Readers whose valid tokens the generator uses, with names that try to reach a header.
const marker = "Zq9marker";
const names = [
  "Bcc: victim@example.org",
  "\u202Eevil\u202C",
  "مريم",
  '"Boss" <boss@example.org>',
  "=?utf-8?q?x?=",
];
for (let i = 0; i < 30; i++) {
  const res = await app.request(
    "/subscribe",
    json({ email: `reader${i}@fuzz.example`, name: `${marker} ${names[i % names.length]}` }),
  );
  if (res.status !== 202) throw new Error(`seeding reader ${i} got ${res.status}`);
}
const readers = (
  await service.database.query<{ id: string }>(
    sql`select id from subscribers where email like 'reader%@fuzz.example'`,
  )
).map((r) => r.id);
const issueId = await storeIssue(service.database);
// A signed-in admin, so generated /admin requests reach the console's handlers too.
await staffMember(service.database.db, "fuzz-admin@staff.test", "admin");
const staffSession = await signIn(app, "fuzz-admin@staff.test");
const fuzzContext = { secret, adminToken, readers, issueId, console: staffSession };

function toRequest(r: FuzzRequest): Request | undefined {
  try {
    return new Request(`http://localhost${r.path}`, { method: r.method, headers: r.headers, body: r.body });
  } catch {
    return undefined; // no client could send it (e.g. a header value fetch refuses)
  }
}

async function drained(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [mail, sends] = await Promise.all([
      service.queue.getJobCounts("waiting", "active", "delayed", "prioritized"),
      service.database.query<{ n: number }>(
        sql`select count(*)::int as n from deliveries where status in ('queued', 'sending')`,
      ),
    ]);
    const pending = Object.values(mail).reduce((a, b) => a + b, 0) + (sends[0]?.n ?? 0);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`mail still pending after 30 s: ${pending}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a NUL in a path segment that reaches a query", () => {
  it("gets a 404 for the web version and the admin preview, not a database error", async () => {
    expect((await app.request("/archive/%00")).status).toBe(404);
    expect((await app.request("/archive/vol-2-6%00")).status).toBe(404);
    const preview = await app.request("/api/issues/%00/preview", {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(preview.status).toBe(404);
  });
});

describe("10,000 generated malformed HTTP requests", () => {
  const statuses = new Map<number, number>();
  let unsendable = 0;

  it("get no 5xx and throw nothing", async () => {
    expect(readers).toHaveLength(30);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(fuzzContext), async (r) => {
        const request = toRequest(r);
        if (!request) {
          unsendable++;
          return;
        }
        const res = await app.request(request);
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // The request described only when it failed: stringifying 10,000 headers of up to 64 KB
        // for messages never shown cost a few hundred milliseconds of the run.
        const described = () => {
          const body = typeof r.body === "string" ? r.body.slice(0, 120) : "";
          return `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers).slice(0, 200)} ${body}`;
        };
        expect(res.status, res.status < 500 ? undefined : described()).toBeLessThan(500);
      }),
      { numRuns: runs },
    );
    const histogram = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.error(
      `http-fuzz: ${runs} requests (${unsendable} no client could send) in ${Date.now() - started} ms; statuses`,
      JSON.stringify(histogram),
    );
    // The generator must reach both sides: refusals, and requests that did what they asked.
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(3);
    expect(statuses.get(202) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(200);
  }, 240_000);

  it("cause mail with exactly one recipient, no extra headers, and no reader's name in any header", async () => {
    await drained();
    const messages = service.smtp.messages;
    const failed = await service.queue.getJobCounts("failed");
    const report = await checkCapturedMail(messages, { marker });
    console.error(`http-fuzz: ${messages.length} mails parsed`, JSON.stringify(report.kinds));
    expect(report.problems).toEqual([]);
    expect(failed.failed).toBe(0);
    // Welcome mails (confirmed readers with hostile names) and test sends of the issue were both caused.
    expect(report.kinds.welcome ?? 0).toBeGreaterThan(0);
    expect(report.kinds.confirm ?? 0).toBeGreaterThan(0);
    expect(report.kinds.issue ?? 0).toBeGreaterThan(0);
  }, 60_000);
});

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { bullPrefix } from "../../src/queues.js";
import { digestAsync } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";

/**
 * Staff look readers up, import what their tools export, and open the export in Excel. Runs that
 * neither change nor depend on each other's rows go at the same time (concurrent tests, or
 * Promise.all); each `digest` is a whole process start, so this file spends its time waiting on them.
 */
const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:1" };
const dir = mkdtempSync(join(tmpdir(), "digest-lookup-"));
const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const digest = (args: string[], options: { env: Record<string, string> } = { env }) =>
  digestAsync(args, options);
const prefix = uniquePrefix("lookup");
afterAll(() => dropPrefix(prefix));

describe("import dialects", { timeout: 120_000 }, () => {
  it("reads a Mailchimp export: semicolons, a BOM, Email Address, First Name + Last Name", async () => {
    const file = join(dir, "mailchimp.csv");
    writeFileSync(
      file,
      "\uFEFFEmail Address;First Name;Last Name;MEMBER_RATING\r\n" +
        "ana@example.org;Ana;Lima;2\r\n" +
        '"yamada@example.jp";山田;太郎;5\r\n' +
        "solo@example.org;;;1\r\n",
    );
    const r = await digest(["subscribers", "import", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ imported: 3, skipped: 0, invalid: 0 });
    const list = json(await digest(["subscribers", "list", "--search", "example.jp", "--json"]));
    expect(list.subscribers).toMatchObject([
      { email: "yamada@example.jp", name: "山田 太郎", status: "active" },
    ]);
  });

  // After the Mailchimp import, not beside it: listings and exports below go by subscription time.
  // The next test imports nothing, so it goes beside this one.
  it.concurrent("reads tab-separated files with an E-mail column and quoted names with commas", async () => {
    const file = join(dir, "tabs.tsv");
    writeFileSync(file, 'E-mail\tname\nbea@example.org\t"Bea, Jr."\n');
    const r = await digest(["subscribers", "import", file]);
    expect(json(r)).toEqual({ imported: 1, skipped: 0, invalid: 0 });
    expect(
      json(await digest(["subscribers", "list", "--search", "bea@", "--json"])).subscribers[0].name,
    ).toBe("Bea, Jr.");
  });

  it.concurrent("names the header it found when there is no email column, and imports nothing", async () => {
    const file = join(dir, "noemail.csv");
    writeFileSync(file, "who,what\nx@example.org,y\n");
    const r = await digest(["subscribers", "import", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no email column: the header must name one "email"');
    expect(r.stderr).toContain('"who", "what"');
  });
});

describe("look-ups", { timeout: 120_000 }, () => {
  // The first two only read, so they run together; the unsubscribe after them changes the counts.
  it.concurrent("counts readers by status, every status present", async () => {
    const counts = json(await digest(["subscribers", "count", "--json"]));
    expect(counts).toEqual({ pending: 0, active: 4, unsubscribed: 0, bounced: 0, complained: 0, total: 4 });
  });

  it.concurrent("lists by status and search, with a limit, as text and JSON", async () => {
    const [text, bad] = await Promise.all([
      digest(["subscribers", "list", "--status", "active", "--limit", "2"]),
      digest(["subscribers", "list", "--status", "gone"]),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^ana@example\.org\tactive\tAna Lima\t\d{4}-\d{2}-\d{2}$/);
    expect(text.stdout).toContain("(2 of 4 shown");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("status must be one of");
  });

  it("unsubscribes as the reader's link does: the row and its history stay, a goodbye mail goes", async () => {
    const withRedis = { ...env, REDIS_URL: sharedRedisUrl, QUEUE_PREFIX: prefix };
    const r = await digest(["subscribers", "unsubscribe", "ana@example.org"], { env: withRedis });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ email: "ana@example.org", status: "unsubscribed", changed: true });
    // Once it is done, these three only read (or change nothing), so they go at once.
    const [listed, again, unknown] = await Promise.all([
      digest(["subscribers", "list", "--status", "unsubscribed", "--json"]),
      digest(["subscribers", "unsubscribe", "ana@example.org"]),
      digest(["subscribers", "unsubscribe", "nobody@example.org"]),
    ]);
    const list = json(listed);
    expect(list.subscribers).toMatchObject([{ email: "ana@example.org", name: "Ana Lima" }]);
    expect(list.subscribers[0].unsubscribedAt).not.toBeNull();
    const queue = new Queue("transactional", {
      connection: { url: sharedRedisUrl },
      prefix: bullPrefix(prefix),
    });
    expect((await queue.getJobs(["waiting", "delayed"])).map((j) => j.name)).toEqual(["goodbye"]);
    await queue.close();
    expect(json(again)).toMatchObject({ status: "unsubscribed", changed: false });
    expect(unknown.code).toBe(2);
  });
});

// The first test's change moves one reader within the order; the second does not look at the order.
describe("export", { timeout: 120_000, concurrent: true }, () => {
  it("is sorted by subscription date, oldest first", async () => {
    await database.query(
      sql`update subscribers set consent_at = '2020-01-01' where email = 'solo@example.org'`,
    );
    const lines = (await digest(["subscribers", "export"])).stdout.trim().split("\n");
    expect(lines[1]).toMatch(/^"solo@example\.org",/);
    expect(lines.at(-1)).toMatch(/^"bea@example\.org",/);
  });

  it("starts with a UTF-8 byte-order mark with --excel, so Excel shows 山田 太郎", async () => {
    const out = join(dir, "excel.csv");
    const [r, plain] = await Promise.all([
      digest(["subscribers", "export", "--excel", "--out", out]),
      digest(["subscribers", "export"]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const bytes = readFileSync(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString("utf8")).toContain("山田 太郎");
    expect(plain.stdout.startsWith("email,")).toBe(true);
  });
});

describe("import --pending", { timeout: 120_000 }, () => {
  it("keeps new rows pending and queues one confirmation mail each, after the import is in", async () => {
    const file = join(dir, "pending.csv");
    writeFileSync(file, "email\np1@example.org\np2@example.org\nbea@example.org\n");
    const r = await digest(["subscribers", "import", file, "--pending"], {
      env: { ...env, REDIS_URL: sharedRedisUrl, QUEUE_PREFIX: prefix },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ imported: 2, skipped: 1, invalid: 0 });
    const pending = json(await digest(["subscribers", "list", "--status", "pending", "--json"]));
    expect(pending.subscribers.map((s: { email: string }) => s.email).sort()).toEqual([
      "p1@example.org",
      "p2@example.org",
    ]);
    const queue = new Queue("transactional", {
      connection: { url: sharedRedisUrl },
      prefix: bullPrefix(prefix),
    });
    const names = (await queue.getJobs(["waiting", "delayed"])).map((j) => j.name);
    await queue.close();
    expect(names.filter((n) => n === "confirm")).toHaveLength(2);
  });
});

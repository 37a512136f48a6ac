import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { bullPrefix } from "../../src/queues.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";
import { dropPrefix, sharedRedisUrl, uniquePrefix } from "../helpers/redis.js";

/** Staff look readers up, import what their tools export, and open the export in Excel. */
const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:1" };
const dir = mkdtempSync(join(tmpdir(), "digest-lookup-"));
const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const prefix = uniquePrefix("lookup");
afterAll(() => dropPrefix(prefix));

describe("import dialects", { timeout: 120_000 }, () => {
  it("reads a Mailchimp export: semicolons, a BOM, Email Address, First Name + Last Name", () => {
    const file = join(dir, "mailchimp.csv");
    writeFileSync(
      file,
      "\uFEFFEmail Address;First Name;Last Name;MEMBER_RATING\r\n" +
        "ana@example.org;Ana;Lima;2\r\n" +
        '"yamada@example.jp";山田;太郎;5\r\n' +
        "solo@example.org;;;1\r\n",
    );
    const r = digest(["subscribers", "import", file], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ imported: 3, skipped: 0, invalid: 0 });
    const list = json(digest(["subscribers", "list", "--search", "example.jp", "--json"], { env }));
    expect(list.subscribers).toMatchObject([
      { email: "yamada@example.jp", name: "山田 太郎", status: "active" },
    ]);
  });

  it("reads tab-separated files with an E-mail column and quoted names with commas", () => {
    const file = join(dir, "tabs.tsv");
    writeFileSync(file, 'E-mail\tname\nbea@example.org\t"Bea, Jr."\n');
    const r = digest(["subscribers", "import", file], { env });
    expect(json(r)).toEqual({ imported: 1, skipped: 0, invalid: 0 });
    expect(
      json(digest(["subscribers", "list", "--search", "bea@", "--json"], { env })).subscribers[0].name,
    ).toBe("Bea, Jr.");
  });

  it("names the header it found when there is no email column, and imports nothing", () => {
    const file = join(dir, "noemail.csv");
    writeFileSync(file, "who,what\nx@example.org,y\n");
    const r = digest(["subscribers", "import", file], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no email column: the header must name one "email"');
    expect(r.stderr).toContain('"who", "what"');
  });
});

describe("look-ups", { timeout: 120_000 }, () => {
  it("counts readers by status, every status present", () => {
    const counts = json(digest(["subscribers", "count", "--json"], { env }));
    expect(counts).toEqual({ pending: 0, active: 4, unsubscribed: 0, bounced: 0, complained: 0, total: 4 });
  });

  it("lists by status and search, with a limit, as text and JSON", () => {
    const text = digest(["subscribers", "list", "--status", "active", "--limit", "2"], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^ana@example\.org\tactive\tAna Lima\t\d{4}-\d{2}-\d{2}$/);
    expect(text.stdout).toContain("(2 of 4 shown");
    const bad = digest(["subscribers", "list", "--status", "gone"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("status must be one of");
  });

  it("unsubscribes as the reader's link does: the row and its history stay, a goodbye mail goes", async () => {
    const withRedis = { ...env, REDIS_URL: sharedRedisUrl, QUEUE_PREFIX: prefix };
    const r = digest(["subscribers", "unsubscribe", "ana@example.org"], { env: withRedis });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ email: "ana@example.org", status: "unsubscribed", changed: true });
    const list = json(digest(["subscribers", "list", "--status", "unsubscribed", "--json"], { env }));
    expect(list.subscribers).toMatchObject([{ email: "ana@example.org", name: "Ana Lima" }]);
    expect(list.subscribers[0].unsubscribedAt).not.toBeNull();
    const queue = new Queue("transactional", {
      connection: { url: sharedRedisUrl },
      prefix: bullPrefix(prefix),
    });
    expect((await queue.getJobs(["waiting", "delayed"])).map((j) => j.name)).toEqual(["goodbye"]);
    await queue.close();
    const again = digest(["subscribers", "unsubscribe", "ana@example.org"], { env });
    expect(json(again)).toMatchObject({ status: "unsubscribed", changed: false });
    const unknown = digest(["subscribers", "unsubscribe", "nobody@example.org"], { env });
    expect(unknown.code).toBe(2);
  });
});

describe("export", { timeout: 120_000 }, () => {
  it("is sorted by subscription date, oldest first", async () => {
    await database.query(
      sql`update subscribers set consent_at = '2020-01-01' where email = 'solo@example.org'`,
    );
    const lines = digest(["subscribers", "export"], { env }).stdout.trim().split("\n");
    expect(lines[1]).toMatch(/^"solo@example\.org",/);
    expect(lines.at(-1)).toMatch(/^"bea@example\.org",/);
  });

  it("starts with a UTF-8 byte-order mark with --excel, so Excel shows 山田 太郎", () => {
    const out = join(dir, "excel.csv");
    const r = digest(["subscribers", "export", "--excel", "--out", out], { env });
    expect(r.code, r.stderr).toBe(0);
    const bytes = readFileSync(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString("utf8")).toContain("山田 太郎");
    expect(digest(["subscribers", "export"], { env }).stdout.startsWith("email,")).toBe(true);
  });
});

describe("import --pending", { timeout: 120_000 }, () => {
  it("keeps new rows pending and queues one confirmation mail each, after the import is in", async () => {
    const file = join(dir, "pending.csv");
    writeFileSync(file, "email\np1@example.org\np2@example.org\nbea@example.org\n");
    const r = digest(["subscribers", "import", file, "--pending"], {
      env: { ...env, REDIS_URL: sharedRedisUrl, QUEUE_PREFIX: prefix },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual({ imported: 2, skipped: 1, invalid: 0 });
    const pending = json(digest(["subscribers", "list", "--status", "pending", "--json"], { env }));
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

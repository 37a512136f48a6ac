import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { purgePending, subscribe } from "../../src/subscribers/lifecycle.js";
import { digest, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:1" };
const statusOf = async (email: string) =>
  (await database.query<{ status: string }>(sql`select status from subscribers where email = ${email}`))[0]
    ?.status;

describe("states strangers cannot undo", () => {
  it("keeps the evidence of an unsubscribe through the pending purge, so a later import keeps honouring it", async () => {
    const mailed: unknown[] = [];
    const notify = async (requests: unknown[]) => {
      mailed.push(...requests);
    };
    await database.query(sql`insert into subscribers (email, status, consent_source, unsubscribed_at, created_at)
      values ('left@example.org', 'unsubscribed', 'web', now() - interval '40 days', now() - interval '90 days'),
             ('never-confirmed@example.org', 'pending', 'web', null, now() - interval '40 days')`);
    await database.query(sql`update subscribers set consent_at = now() - interval '40 days'`);
    // The reader's own manage link started them over 40 days ago; they never confirmed.
    await subscribe(
      { db: database.db, notify },
      { email: "left@example.org", source: "web" },
      new Date(Date.now() - 40 * 86_400_000),
      true,
    );
    expect(await statusOf("left@example.org")).toBe("pending");

    expect(await purgePending(database.db)).toBe(1);
    expect(await statusOf("never-confirmed@example.org")).toBeUndefined();
    expect(await statusOf("left@example.org")).toBe("unsubscribed");

    const file = join(mkdtempSync(join(tmpdir(), "digest-import-")), "list.csv");
    writeFileSync(file, "email\nleft@example.org\n");
    const imported = digest(["subscribers", "import", file], { env });
    expect(imported.code).toBe(0);
    expect(await statusOf("left@example.org")).toBe("unsubscribed");
  });

  it("refuses to unsuppress an erased address", async () => {
    await database.query(sql`insert into subscribers (email, status, consent_source)
      values ('forget-me@example.org', 'active', 'web')`);
    expect(digest(["subscribers", "remove", "forget-me@example.org"], { env }).code).toBe(0);
    const lifted = digest(["subscribers", "unsuppress", "forget-me@example.org"], { env });
    expect(lifted.code).not.toBe(0);
    expect(lifted.stderr).toMatch(/erased at the person's request/);
    const [entry] = await database.query<{ reason: string }>(sql`select reason from suppressions`);
    expect(entry?.reason).toBe("erased");
  });

  it("keeps a pending row's first consent through a repeated request, and its fresh link alive through the purge", async () => {
    const mailed: unknown[] = [];
    const deps = { db: database.db, notify: async (requests: unknown[]) => void mailed.push(...requests) };
    const day = 86_400_000;
    const asked = new Date(Date.now() - 40 * day);
    await subscribe(deps, { email: "slow@example.org", name: "Slow", source: "web", ip: "192.0.2.5" }, asked);
    await subscribe(
      deps,
      { email: "slow@example.org", name: "Other", source: "web", ip: "192.0.2.6" },
      new Date(Date.now() - day),
    );
    expect(mailed).toHaveLength(2);
    expect(await purgePending(database.db)).toBe(0);
    const [row] = await database.query<{
      status: string;
      name: string;
      consent_ip: string;
      consent_at: Date;
    }>(sql`select status, name, consent_ip, consent_at from subscribers where email = 'slow@example.org'`);
    expect(row).toMatchObject({ status: "pending", name: "Slow", consent_ip: "192.0.2.5" });
    expect(new Date(row?.consent_at ?? 0).getTime()).toBe(asked.getTime());
  });
});

describe("secrets", () => {
  it("digest init writes a .env with fresh random SECRET and ADMIN_TOKEN that pass validation, readable by its owner only", () => {
    const cwd = mkdtempSync(join(tmpdir(), "digest-init-"));
    const first = digest(["init"], { cwd });
    expect(first.code).toBe(0);
    const written = readFileSync(join(cwd, ".env"), "utf8");
    const values = parseDotenv(written);
    expect(values.SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(values.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(values.SECRET).not.toBe(values.ADMIN_TOKEN);
    expect(loadConfig(["secret", "adminToken"], values)).toEqual({
      secret: values.SECRET,
      adminToken: values.ADMIN_TOKEN,
    });
    expect(statSync(join(cwd, ".env")).mode & 0o077).toBe(0);

    const again = digest(["init"], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(join(cwd, ".env"), "utf8")).toBe(written);
    const other = digest(["init"], { cwd: mkdtempSync(join(tmpdir(), "digest-init-")) });
    expect(other.code).toBe(0);
  });

  it("refuses the values .env.example ships with", () => {
    const example = parseDotenv(readFileSync(join(repoRoot, ".env.example")));
    expect(() => loadConfig(["secret", "adminToken"], example)).toThrow(ConfigError);
    try {
      loadConfig(["secret", "adminToken"], example);
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(2);
      expect(String(error)).toMatch(/digest init/);
    }
  });
});

import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { query } from "../../src/db/database.js";
import { accountForSetup, findStaff } from "../../src/staff/accounts.js";
import { createSession } from "../../src/staff/sessions.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, PUBLIC_URL: "https://news.example.org" };

describe("digest staff", () => {
  it("adds an admin and prints only the one-time setup link on stdout", async () => {
    const run = digest(["staff", "add", "Chief@Example.org", "--role", "admin"], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^https:\/\/news\.example\.org\/admin\/setup\/[A-Za-z0-9_-]{43}\n$/);
    expect(run.stderr).toMatch(/added Chief@example\.org \(admin\)/);
    const token = run.stdout.trim().split("/").pop() ?? "";
    expect((await accountForSetup(database.db, token))?.role).toBe("admin");
  });

  it("renews the link of an existing account (the reset) and signs its sessions out there and then", async () => {
    const account = await findStaff(database.db, "Chief@example.org");
    if (!account) throw new Error("no account");
    await createSession(database.db, account);
    const run = digest(["staff", "add", "chief@example.org"], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /renewed the setup link of Chief@example\.org \(admin\) and signed out its sessions/,
    );
    const [live] = await query<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from staff_sessions where staff_id = ${account.id} and revoked_at is null`,
    );
    expect(live?.n).toBe(0);
  });

  it("lists accounts with their role and whether the link is still pending", () => {
    digest(["staff", "add", "writer@example.org"], { env });
    const run = digest(["staff", "list", "--json"], { env });
    expect(JSON.parse(run.stdout)).toEqual([
      expect.objectContaining({ email: "Chief@example.org", role: "admin", password: false }),
      expect.objectContaining({ email: "writer@example.org", role: "editor", password: false }),
    ]);
  });

  it("refuses an unknown role and a malformed address with exit 2, adding nothing", () => {
    expect(digest(["staff", "add", "x@example.org", "--role", "owner"], { env }).code).toBe(2);
    expect(digest(["staff", "add", "not an address"], { env }).code).toBe(2);
    expect(JSON.parse(digest(["staff", "list", "--json"], { env }).stdout)).toHaveLength(2);
  });

  it("removes an account, refuses the last admin, and says so for an unknown one", () => {
    expect(digest(["staff", "remove", "writer@example.org"], { env }).code).toBe(0);
    const last = digest(["staff", "remove", "chief@example.org"], { env });
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/last admin/);
    expect(digest(["staff", "remove", "nobody@example.org"], { env }).code).toBe(1);
  });
});

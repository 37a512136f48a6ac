import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { suppressions } from "../../src/db/schema.js";
import { addressHash } from "../../src/subscribers/suppression.js";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

const database = await createTestDatabase();
const env = { DATABASE_URL: database.url, REDIS_URL: "redis://127.0.0.1:1" };
const dir = mkdtempSync(join(tmpdir(), "digest-subscribers-"));

describe("digest subscribers", () => {
  it("imports a file whole or not at all: bad rows named by line and value, then the fixed file", async () => {
    await database.db
      .insert(suppressions)
      .values({ addressHash: addressHash("bounced@example.org"), reason: "bounced" });
    const file = join(dir, "readers.csv");
    const rows = [
      "email,name",
      "one@example.org,One",
      "not-an-address,Bad",
      "bounced@example.org,Was Bounced",
      '"two@Example.org","مريم"',
      "a@b.com\\r\\nBcc: x@y.z,Evil",
      "one@example.org,Again",
    ];
    writeFileSync(file, rows.join("\n"));
    const run = digest(["subscribers", "import", file], { env });
    expect(run.stderr).toContain(`${file}:3: "not-an-address": `);
    expect(run.stderr).toContain(`${file}:6: "a@b.com\\\\r\\\\nBcc: x@y.z": `);
    expect(run.stderr).toContain("nothing imported: 2 bad rows");
    expect(JSON.parse(run.stdout)).toEqual({ imported: 0, skipped: 0, invalid: 2 });
    expect(run.code).toBe(2);

    writeFileSync(file, rows.filter((_, i) => i !== 2 && i !== 5).join("\n"));
    const fixed = digest(["subscribers", "import", file], { env });
    expect(JSON.parse(fixed.stdout)).toEqual({ imported: 2, skipped: 2, invalid: 0 });
    expect(fixed.code).toBe(0);
  });

  it("adds a confirmed reader, exports CSV with email, name and status, then erases them", () => {
    const add = digest(["subscribers", "add", "Staff@Example.org", "--name", "Staff", "--confirmed"], {
      env,
    });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ email: "Staff@example.org", status: "active" });

    const exported = digest(["subscribers", "export"], { env });
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^email,name,status,/);
    expect(lines.some((l) => l.startsWith('"Staff@example.org","Staff","active",'))).toBe(true);
    expect(lines.some((l) => l.startsWith('"two@example.org","مريم","active",'))).toBe(true);

    const removed = digest(["subscribers", "remove", "staff@example.org"], { env });
    expect(JSON.parse(removed.stdout)).toEqual({ erased: true });
    const unknown = digest(["subscribers", "remove", "nobody@example.org"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("nobody@example.org is not a subscriber");
    expect(digest(["subscribers", "export"], { env }).stdout).not.toContain("Staff@example.org");
  });

  it("lifts a suppression with unsuppress, and says so when there is none", () => {
    const lifted = digest(["subscribers", "unsuppress", "bounced@example.org"], { env });
    expect(JSON.parse(lifted.stdout)).toEqual({ lifted: "bounced" });
    const again = digest(["subscribers", "unsuppress", "bounced@example.org"], { env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("not on the suppression list");
  });

  it("refuses a bad address with a message and a non-zero exit", () => {
    const bad = digest(["subscribers", "add", "a@b.com\r\nBcc: x@y.z", "--confirmed"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: /);
  });
});

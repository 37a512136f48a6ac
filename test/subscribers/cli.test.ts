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
  it("imports good rows, reports bad ones by line, and never changes a suppressed address", async () => {
    await database.db
      .insert(suppressions)
      .values({ addressHash: addressHash("bounced@example.org"), reason: "bounced" });
    const file = join(dir, "readers.csv");
    writeFileSync(
      file,
      [
        "email,name",
        "one@example.org,One",
        "not-an-address,Bad",
        "bounced@example.org,Was Bounced",
        '"two@Example.org","مريم"',
        "a@b.com\\r\\nBcc: x@y.z,Evil",
        "one@example.org,Again",
      ].join("\n"),
    );
    const run = digest(["subscribers", "import", file], { env });
    expect(run.stderr).toContain(`${file}:3:`);
    expect(run.stderr).toContain(`${file}:6:`);
    expect(JSON.parse(run.stdout)).toEqual({ imported: 2, skipped: 2, invalid: 2 });
    expect(run.code).toBe(1);
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
    expect(lines.some((l) => l.startsWith("Staff@example.org,Staff,active,"))).toBe(true);
    expect(lines.some((l) => l.startsWith("two@example.org,مريم,active,"))).toBe(true);

    const removed = digest(["subscribers", "remove", "staff@example.org"], { env });
    expect(JSON.parse(removed.stdout)).toEqual({ erased: true });
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

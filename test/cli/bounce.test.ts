import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { digest } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

const database = await createTestDatabase();
const work = mkdtempSync(join(tmpdir(), "digest-bounce-"));

const dsn = (recipient: string, status: string, diagnostic: string) =>
  [
    "From: MAILER-DAEMON@mx.example.net",
    "To: someone@alliance-digest.example.org",
    "Subject: Undelivered Mail Returned to Sender",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "Delivery failed.",
    "--b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    "Action: failed",
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${diagnostic}`,
    "--b--",
    "",
  ].join("\r\n");

describe("digest bounce", () => {
  it("prints the report as JSON and opens no database without --apply", () => {
    const file = join(work, "hard.eml");
    writeFileSync(
      file,
      dsn(
        "gone@example.net",
        "5.1.1",
        "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown",
      ),
    );
    const r = digest(["bounce", file], { env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: "hard",
      recipients: [{ address: "gone@example.net", status: "5.1.1" }],
    });
  });

  it("with --apply suppresses the reader a hard bounce names, and leaves a full mailbox's reader active", async () => {
    await database.query(sql`insert into subscribers (email, status, consent_source)
      values ('gone@example.net', 'active', 'admin'), ('full@example.net', 'active', 'admin')`);
    const hard = join(work, "apply-hard.eml");
    writeFileSync(
      hard,
      dsn(
        "gone@example.net",
        "5.1.1",
        "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown",
      ),
    );
    const soft = join(work, "apply-soft.eml");
    writeFileSync(soft, dsn("full@example.net", "5.2.2", "552 5.2.2 <full@example.net>: Mailbox full"));
    const env = { DATABASE_URL: database.url, SECRET: undefined };
    const first = digest(["bounce", hard, "--apply"], { env });
    expect(first.stderr).toBe("");
    expect(JSON.parse(first.stdout).applied).toMatchObject({ subscriberStatus: "bounced", suppressed: true });
    expect(digest(["bounce", soft, "--apply"], { env }).code).toBe(0);
    const rows = await database.query<{ email: string; status: string }>(
      sql`select email, status from subscribers order by email`,
    );
    expect(rows).toEqual([
      { email: "full@example.net", status: "active" },
      { email: "gone@example.net", status: "bounced" },
    ]);
  });

  it("names a missing file instead of crashing", () => {
    const r = digest(["bounce", join(work, "nope.eml")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read/);
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { signDeliveryToken } from "../../src/subscribers/tokens.js";
import { digest, digestBin, repoRoot } from "../helpers/cli.js";
import { createTestDatabase } from "../helpers/db.js";

const database = await createTestDatabase();
const work = mkdtempSync(join(tmpdir(), "digest-bounce-"));

const secret = "cli-bounce-secret-0123456789-0123456789";
const domain = "alliance-digest.example.org";

const dsn = (recipient: string, status: string, diagnostic: string, to = `someone@${domain}`) =>
  [
    "From: MAILER-DAEMON@mx.example.net",
    `To: ${to}`,
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

  /** Two readers who were each sent one delivery of a real send; returns their delivery ids. */
  async function twoDeliveries(): Promise<Record<string, number>> {
    await database.query(sql`insert into subscribers (email, status, consent_source)
      values ('gone@example.net', 'active', 'admin'), ('full@example.net', 'active', 'admin')`);
    const [issue] = await database.query<{ id: string }>(sql`insert into issues
      (slug, volume, subject, issue_date, source, html, text, published_at)
      values ('vol-1', '1', 'Vol 1', '2023-01-01', '', '', '', now()) returning id`);
    const [send] = await database.query<{ id: string }>(
      sql`insert into sends (issue_id, status) values (${issue?.id}, 'done') returning id`,
    );
    const rows = await database.query<{ email: string; id: number }>(sql`
      insert into deliveries (send_id, subscriber_id, status)
      select ${send?.id}, id, 'sent' from subscribers returning id::int,
      (select email from subscribers s where s.id = subscriber_id)`);
    return Object.fromEntries(rows.map((r) => [r.email, r.id]));
  }
  const verp = (deliveryId: number) => `bounces+${signDeliveryToken(secret, deliveryId)}@${domain}`;
  const env = { DATABASE_URL: database.url, SECRET: secret, MAIL_DOMAIN: domain };

  it("with --apply suppresses the reader a proven hard bounce names, and leaves a full mailbox's reader active", async () => {
    const ids = await twoDeliveries();
    const forged = join(work, "apply-forged.eml");
    // Names the reader's address but answers none of our mail: changes nothing.
    writeFileSync(forged, dsn("gone@example.net", "5.1.1", "550 5.1.1 User unknown"));
    const ignored = digest(["bounce", forged, "--apply"], { env });
    expect(ignored.code).toBe(0);
    expect(JSON.parse(ignored.stdout).applied.ignored).toMatch(/no proof/);

    const hard = join(work, "apply-hard.eml");
    writeFileSync(
      hard,
      dsn(
        "gone@example.net",
        "5.1.1",
        "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown",
        verp(ids["gone@example.net"] ?? 0),
      ),
    );
    const soft = join(work, "apply-soft.eml");
    writeFileSync(
      soft,
      dsn(
        "full@example.net",
        "5.2.2",
        "552 5.2.2 <full@example.net>: Mailbox full",
        verp(ids["full@example.net"] ?? 0),
      ),
    );
    // A proven delivery, but the report names someone else: not applied either.
    const mismatched = join(work, "apply-mismatched.eml");
    writeFileSync(
      mismatched,
      dsn("full@example.net", "5.1.1", "550 5.1.1 User unknown", verp(ids["gone@example.net"] ?? 0)),
    );
    expect(JSON.parse(digest(["bounce", mismatched, "--apply"], { env }).stdout).applied.ignored).toMatch(
      /another recipient/,
    );

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

  it("with --apply and no SECRET says it cannot prove anything, and changes nothing", () => {
    const file = join(work, "hard.eml");
    const r = digest(["bounce", file, "--apply"], { env: { ...env, SECRET: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SECRET/);
  });

  it("reads only the part of a huge file the parser uses: a 512 MB file costs no more memory than a small one", () => {
    const file = join(work, "huge.eml");
    writeFileSync(file, dsn("big@example.com", "5.1.1", "550 5.1.1 User unknown"));
    truncateSync(file, 512 * 1024 * 1024); // sparse: the rest reads as NUL bytes
    const run = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, digestBin, "bounce", file], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      type: "hard",
      recipients: [{ address: "big@example.com" }],
    });
    const peakMb = Number(run.stderr.trim().split("\n").at(-1)) / 1024;
    expect(peakMb).toBeLessThan(256);
  });

  it("names a missing file instead of crashing", () => {
    const r = digest(["bounce", join(work, "nope.eml")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read/);
  });
});

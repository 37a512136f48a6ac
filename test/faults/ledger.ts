import { sql } from "drizzle-orm";
import { expect } from "vitest";
import type { Database } from "../../src/db/database.js";
import type { CapturedMessage } from "../helpers/smtp.js";

/**
 * The check every fault scenario ends with: the ledger (deliveries joined with subscribers) against
 * what the SMTP server actually captured, matched by the deterministic Message-ID each message
 * carries. It holds when no reader was skipped, no message went out without a committed claim, and
 * every second copy a reader got is counted as ambiguous.
 */
export interface LedgerRow {
  id: number;
  email: string;
  status: string;
  attempts: number;
  ambiguous: number;
  subscriberStatus: string | null;
}

export interface Ledger {
  /** Readers r0..r{n-1} the scenario created, all active when the send started. */
  readers: number;
  /** Delivery rows by status. */
  counts: Record<string, number>;
  ambiguous: number;
  /** Captured messages of this send, and how many readers they reached. */
  captured: number;
  unique: number;
  duplicates: number;
  /** Readers without a delivery row, or whose row did not end in an expected status. */
  skipped: string[];
  /** Deliveries with more captured copies than committed claims (a send without a claim). */
  unclaimed: number[];
  /** Deliveries with more second copies than ambiguous counts. */
  uncounted: number[];
  /** `sent` rows the server never captured. */
  phantom: number[];
  /** Captured messages whose Message-ID, To or envelope does not match their delivery row. */
  strangers: string[];
}

/** The headers of a raw message, unfolded, names lower-cased (first occurrence wins). */
export function headersOf(raw: Buffer): Map<string, string> {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const block = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

export async function readLedger(
  database: Database,
  sendId: string,
  messages: CapturedMessage[],
  readers: { count: number; domain: string },
  finalStatuses: readonly string[] = ["sent"],
): Promise<Ledger> {
  const rows = await database.query<LedgerRow & Record<string, unknown>>(sql`
    select d.id::float8 as id, coalesce(d.address, s.email) as email, d.status, d.attempts::int as attempts,
      d.ambiguous::int as ambiguous, s.status as "subscriberStatus"
    from deliveries d left join subscribers s on s.id = d.subscriber_id
    where d.send_id = ${sendId} order by d.id`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const copies = new Map<number, number>();
  const strangers: string[] = [];
  let captured = 0;
  const idPattern = new RegExp(`^<${sendId}\\.(\\d+)\\.[0-9a-f]+@[^>]+>$`); // <send.delivery.signature@domain>
  for (const message of messages) {
    const headers = headersOf(message.raw);
    const messageId = headers.get("message-id") ?? "";
    const match = idPattern.exec(messageId);
    if (!match) continue; // another send's mail (or a transactional one)
    captured++;
    const row = byId.get(Number(match[1]));
    const to = headers.get("to") ?? "";
    if (!row || message.to.length !== 1 || message.to[0] !== row.email || !to.includes(row.email)) {
      strangers.push(`${messageId} to ${message.to.join(",")} (To: ${to})`);
      continue;
    }
    copies.set(row.id, (copies.get(row.id) ?? 0) + 1);
  }
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  const skipped: string[] = [];
  for (let i = 0; i < readers.count; i++) {
    const email = `r${i}@${readers.domain}`;
    const row = byEmail.get(email);
    if (!row || !finalStatuses.includes(row.status))
      skipped.push(`${email}: ${row?.status ?? "no delivery"}`);
  }
  const counts: Record<string, number> = {};
  const unclaimed: number[] = [];
  const uncounted: number[] = [];
  const phantom: number[] = [];
  for (const row of rows) {
    counts[row.status] = (counts[row.status] ?? 0) + 1;
    const n = copies.get(row.id) ?? 0;
    if (n > row.attempts) unclaimed.push(row.id);
    // A row that is not `sent` may still have copies out there, if an attempt was ambiguous.
    const allowed = row.status === "sent" ? 1 + row.ambiguous : row.ambiguous;
    if (n > allowed) uncounted.push(row.id);
    if (row.status === "sent" && n === 0) phantom.push(row.id);
  }
  const unique = copies.size;
  return {
    readers: readers.count,
    counts,
    ambiguous: rows.reduce((n, r) => n + r.ambiguous, 0),
    captured,
    unique,
    duplicates: captured - strangers.length - unique,
    skipped,
    unclaimed,
    uncounted,
    phantom,
    strangers,
  };
}

/** The assertions every scenario shares; `expected` pins the non-sent outcomes the scenario explains. */
export function expectLedgerHolds(ledger: Ledger, expected: Record<string, number> = {}): void {
  expect(ledger.skipped, "readers skipped").toEqual([]);
  expect(ledger.strangers, "messages that match no delivery").toEqual([]);
  expect(ledger.unclaimed, "deliveries sent more often than claimed").toEqual([]);
  expect(ledger.uncounted, "second copies not counted as ambiguous").toEqual([]);
  expect(ledger.phantom, "rows marked sent that the server never got").toEqual([]);
  expect(ledger.duplicates).toBeLessThanOrEqual(ledger.ambiguous);
  const others = Object.values(expected).reduce((a, b) => a + b, 0);
  expect(ledger.counts).toEqual(
    Object.fromEntries(
      Object.entries({ sent: ledger.readers - others, ...expected }).filter(([, n]) => n > 0),
    ),
  );
}

/** One line per scenario, for the README's fault-suite table. */
export function ledgerLine(name: string, ledger: Ledger, seconds: number, extra = ""): string {
  const statuses = Object.entries(ledger.counts)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  return (
    `fault ${name}: ${ledger.readers} readers; ${statuses}; skipped ${ledger.skipped.length}; ` +
    `captured ${ledger.captured} (${ledger.duplicates} duplicates, ${ledger.ambiguous} ambiguous)` +
    `${extra ? `; ${extra}` : ""}; ${seconds.toFixed(1)} s`
  );
}

import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { claimStatement } from "../../src/sending/claim.js";
import { startSend } from "../../src/sending/plan.js";
import { createTestDatabase } from "../helpers/db.js";
import { addReaders, pipeline, storeIssue } from "./harness.js";

const database = await createTestDatabase();

/**
 * A claim reads one batch's id range. Right after a send is planned, Postgres's statistics still
 * describe the table before it; planned on those, a claim went through the (send_id, status)
 * index and read every row of the send, each time: quadratic in the size of the send.
 */
describe("claiming a batch right after a big send is planned", () => {
  it("reads the batch's id range from the primary key, not every row of the send", async () => {
    const pipe = await pipeline(database, "smtp://127.0.0.1:9");
    try {
      const issueId = await storeIssue(database);
      await addReaders(database, 3000);
      const { sendId } = await startSend(pipe.plan, { issueId });
      const [first] = await database.query<{ id: number }>(
        sql`select min(id)::float8 as id from deliveries where send_id = ${sendId}`,
      );
      const fromId = first?.id ?? 0;
      const statement = claimStatement(
        { owner: "plan-check", leaseSeconds: 30, claimSize: 100 },
        { sendId, fromId, toId: fromId + 249, generation: 0 },
      );
      const rows = await database.query<{ "QUERY PLAN": string }>(sql`explain ${statement}`);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toContain("deliveries_pkey");
      expect(plan).not.toContain("deliveries_send_status_idx");
    } finally {
      await pipe.close();
    }
  });
});

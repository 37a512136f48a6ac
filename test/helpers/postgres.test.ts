import postgres from "postgres";
import { describe, expect, it, onTestFinished } from "vitest";
import { startPrivatePostgres } from "./postgres.js";

describe("a private PostgreSQL for tests that restart the database", () => {
  it("starts, answers, restarts and answers again", async () => {
    const pg = await startPrivatePostgres();
    // onTestFinished, not afterAll: an afterAll registered inside a test never runs, and the
    // cluster (restarted below) outlived every run.
    onTestFinished(() => pg.destroy());
    const query = async () => {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql`select 1 as one`;
        return row?.one;
      } finally {
        await sql.end();
      }
    };
    expect(await query()).toBe(1);
    pg.restart("immediate");
    expect(await query()).toBe(1);
  }, 60_000);
});

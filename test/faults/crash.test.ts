import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { crashDrill } from "../sending/crash.js";

/** Real worker processes SIGKILLed at random moments during a 2,000-reader send, then restarted. */
const database = await createTestDatabase();
let smtp: SmtpCapture;
beforeAll(async () => {
  smtp = await startSmtpCapture();
});
afterAll(() => smtp.close());

it("a 2,000-reader send survives repeated SIGKILLs: 0 readers skipped, duplicates ≤ ambiguous", async () => {
  const outcome = await crashDrill(database, smtp, { readers: 2000, workers: 3, kills: 10, sendRate: 400 });
  process.stderr.write(
    `crash drill: ${outcome.killed} kills, ${outcome.unique} readers, ${outcome.duplicates} duplicates, ` +
      `${outcome.status.ambiguous} ambiguous\n`,
  );
  expect(outcome.killed).toBeGreaterThanOrEqual(5);
  expect(outcome.unique).toBe(2000);
  expect(outcome.status.sent).toBe(2000);
  expect(outcome.duplicates).toBeLessThanOrEqual(outcome.status.ambiguous);
});

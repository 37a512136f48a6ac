import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/db.js";
import { type SmtpCapture, startSmtpCapture } from "../helpers/smtp.js";
import { crashDrill } from "./crash.js";

/** The small crash drill that runs with every `npm test`; test/faults/ has the 2,000-reader one. */
const database = await createTestDatabase();
let smtp: SmtpCapture;
beforeAll(async () => {
  smtp = await startSmtpCapture();
});
afterAll(() => smtp.close());

it("workers SIGKILLed mid-send skip no reader, and every second copy is counted as ambiguous", async () => {
  const outcome = await crashDrill(database, smtp, { readers: 300, workers: 2, kills: 3, sendRate: 150 });
  expect(outcome.killed).toBeGreaterThan(0);
  expect(outcome.unique).toBe(300);
  expect(outcome.status.sent).toBe(300);
  expect(outcome.duplicates).toBeLessThanOrEqual(outcome.status.ambiguous);
}, 120_000);

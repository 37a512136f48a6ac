import { afterAll, expect, it } from "vitest";
import { afterMessages, startScenario } from "./scenario.js";

/** Real worker processes SIGKILLed at random moments during a 2,000-reader send, then restarted. */
const scenario = await startScenario({ readers: 2000, env: { SEND_RATE: "400", SEND_BATCH_SIZE: "100" } });
afterAll(() => scenario.close());

it("a 2,000-reader send survives repeated SIGKILLs: 0 readers skipped, duplicates ≤ ambiguous", async () => {
  for (let i = 0; i < 3; i++) scenario.spawnWorker();
  const sendId = await scenario.send();
  await afterMessages(scenario, 20);
  let killed = 0;
  const deadline = Date.now() + 60_000;
  while (killed < 10 && Date.now() < deadline && scenario.smtp.messages.length < 1900) {
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 500));
    const victims = [...scenario.workers];
    const victim = victims[Math.floor(Math.random() * victims.length)];
    if (!victim) continue;
    victim.child.kill("SIGKILL");
    await victim.exited;
    killed++;
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    scenario.spawnWorker();
  }
  await scenario.waitForSend(sendId, "done", 120_000);
  const ledger = await scenario.check("SIGKILL at random", sendId, {}, `${killed} kills`);
  expect(killed).toBeGreaterThanOrEqual(5);
  expect(ledger.unique).toBe(2000);
});

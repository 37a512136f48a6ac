import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { signIn, staffMember } from "../console/session.js";
import { storeIssue } from "../sending/harness.js";
import { bearer, startService } from "./harness.js";

/**
 * A send a circuit breaker paused, as staff meet it over HTTP: the console asks for the number of
 * complaints typed back, the admin API for `"force": true`, and /metrics counts it by reason.
 */
const service = await startService({ worker: false, sending: true });
const { app, database, deps } = service;

/** A running send, then paused by its complaints breaker over `complaints` counted ARF reports. */
async function breakerPausedSend(complaints: number): Promise<string> {
  const issueId = await storeIssue(database);
  const [send] = await database.query<{ id: string }>(sql`
    insert into sends (issue_id, status, started_at, breaker, paused_reason)
    values (${issueId}, 'paused', now(), 'complaints', 'complaints reached 0.5 % of sent (1 of 200; the limit is 0.3 %)')
    returning id`);
  const sendId = send?.id ?? "";
  for (let i = 0; i < complaints; i++)
    await database.query(sql`insert into bounces (send_id, type, feedback_type, source)
      values (${sendId}, 'complaint', 'abuse', 'arf')`);
  // An auth-failure report (RFC 6591) changes no reader, and trips nothing: not counted.
  await database.query(sql`insert into bounces (send_id, type, feedback_type, source)
    values (${sendId}, 'complaint', 'auth-failure', 'arf')`);
  return sendId;
}
const statusOf = async (sendId: string) => {
  const [row] = await database.query<{ status: string; forced_complaints: number | null }>(
    sql`select status, forced_complaints from sends where id = ${sendId}`,
  );
  return row;
};

describe("a send paused by a circuit breaker", { timeout: 30_000 }, () => {
  it("is counted by reason on /metrics", async () => {
    await breakerPausedSend(1);
    const local = await createApp({ ...deps, clientIp: () => "127.0.0.1" });
    const text = await (await local.request("/metrics")).text();
    expect(text).toMatch(/digest_sends_paused\{reason="complaints"\} [1-9]/);
    expect(text).toContain('digest_sends_paused{reason="hard-bounces"} 0');
  });

  it('resumes through the admin API only with "force": true, which records what was accepted', async () => {
    const sendId = await breakerPausedSend(2);
    const plain = await app.request(`/api/sends/${sendId}/resume`, { method: "POST", headers: bearer });
    expect(plain.status).toBe(409);
    expect(await plain.json()).toMatchObject({ breaker: "complaints", count: 2 });
    expect((await statusOf(sendId))?.status).toBe("paused");
    const retried = await app.request(`/api/sends/${sendId}/retry`, { method: "POST", headers: bearer });
    expect(retried.status).toBe(409);

    const forced = await app.request(`/api/sends/${sendId}/resume`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ force: true }),
    });
    expect(forced.status).toBe(200);
    expect(await statusOf(sendId)).toEqual({ status: "running", forced_complaints: 2 });
  });

  it("resumes in the console only when the admin types back the number of complaints", async () => {
    const sendId = await breakerPausedSend(3);
    await staffMember(database.db, "admin@staff.test", "admin");
    const admin = await signIn(app, "admin@staff.test");
    const page = await (await admin.get(`/admin/sends/${sendId}`)).text();
    expect(page).toContain("A circuit breaker paused this send");
    expect(page).toContain("type the number of complaints");
    expect(page).toContain('name="confirm"');

    const clicked = await admin.post(`/admin/sends/${sendId}/resume`);
    expect(clicked.status).toBeGreaterThanOrEqual(400);
    const wrong = await admin.post(`/admin/sends/${sendId}/resume`, { confirm: "2" });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    expect((await statusOf(sendId))?.status).toBe("paused");

    const typed = await admin.post(`/admin/sends/${sendId}/resume`, { confirm: "3" });
    expect(typed.status).toBe(303);
    expect(await statusOf(sendId)).toEqual({ status: "running", forced_complaints: 3 });
  });
});

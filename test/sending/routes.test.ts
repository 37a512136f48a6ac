import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { DigestError } from "../../src/errors.js";
import { sendRoutes } from "../../src/http/sends.js";
import { createTestDatabase } from "../helpers/db.js";
import { addReaders, type Pipeline, pipeline, storeIssue } from "./harness.js";

/** The admin send routes, mounted as the app mounts them, with an onError like the app's. */
const database = await createTestDatabase();
let pipe: Pipeline;
let app: Hono;
let issueId: string;

beforeAll(async () => {
  pipe = await pipeline(database, "smtp://127.0.0.1:1");
  issueId = await storeIssue(database);
  await addReaders(database, 5);
  app = new Hono();
  app.route("/api", sendRoutes({ db: database.db, queue: pipe.queue, batchSize: 50 }));
  const codes = { invalid: 400, not_found: 404, conflict: 409, forbidden: 403, unavailable: 503 } as const;
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    if (error instanceof DigestError) return c.json({ error: error.message }, codes[error.kind]);
    if (error instanceof ZodError) return c.json({ error: "invalid" }, 400);
    return c.json({ error: "server" }, 500);
  });
});
afterAll(() => pipe.close());

const post = (path: string, body?: unknown) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body),
  });

describe("admin send routes", () => {
  let sendId: string;
  it("starts a send with 202 and its id, and shows its status", async () => {
    const res = await post(`/api/issues/${issueId}/sends`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { sendId: string; deliveries: number };
    expect(body.deliveries).toBe(5);
    sendId = body.sendId;
    const status = await app.request(`/api/sends/${sendId}`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ sendId, total: 5, ambiguous: 0 });
  });

  it("pauses, refuses a second pause with 409, and cancels", async () => {
    expect((await post(`/api/sends/${sendId}/pause`)).status).toBe(200);
    expect((await post(`/api/sends/${sendId}/pause`)).status).toBe(409);
    const cancel = await post(`/api/sends/${sendId}/cancel`);
    expect(await cancel.json()).toMatchObject({ status: "cancelled", rows: 5 });
  });

  it("answers bad input with a 4xx, never a 500", async () => {
    expect((await post(`/api/issues/${issueId}/sends`, "{nope")).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { test: "x" })).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { test: ["bad address"] })).status).toBe(400);
    expect((await post(`/api/issues/${issueId}/sends`, { at: "tomorrow" })).status).toBe(400);
    expect((await post("/api/issues/not-an-id/sends")).status).toBe(404);
    expect((await post("/api/issues/00000000-0000-4000-8000-000000000000/sends")).status).toBe(404);
    expect((await app.request("/api/sends/nope")).status).toBe(400);
    expect((await app.request("/api/sends/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await post(`/api/sends/${sendId}/explode`)).status).toBe(404);
  });

  it("a second send of the same issue needs again: true", async () => {
    expect((await post(`/api/issues/${issueId}/sends`)).status).toBe(202);
    expect((await post(`/api/issues/${issueId}/sends`)).status).toBe(409);
    expect((await post(`/api/issues/${issueId}/sends`, { again: true })).status).toBe(202);
  });
});

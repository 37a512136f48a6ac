import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { isUuid } from "../ids.js";
import { type ControlAction, controlSend } from "../sending/control.js";
import { type PlanDeps, startSend } from "../sending/plan.js";
import { loadSendStatus } from "../sending/status.js";

/**
 * The admin routes for sends, mounted under `/api` behind the admin bearer check:
 * `POST /issues/:id/sends` starts a send (or a test send), `GET /sends/:id` is its status,
 * `POST /sends/:id/{pause,resume,cancel,retry}` controls it. Domain code throws DigestError kinds;
 * the app's one onError turns them into 4xx answers.
 */

export const StartSendBody = z.strictObject({
  test: z.array(z.string().max(254)).min(1).max(50).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  again: z.boolean().optional(),
});
export type StartSendBody = z.infer<typeof StartSendBody>;

const actions: readonly ControlAction[] = ["pause", "resume", "cancel", "retry"];

export function sendRoutes(plan: PlanDeps) {
  const app = new Hono();

  app.post("/issues/:id/sends", async (c) => {
    const text = await c.req.text();
    let json: unknown = {};
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw new HTTPException(400, { message: "the body is not valid JSON" });
      }
    }
    const body = StartSendBody.parse(json);
    const issueId = c.req.param("id");
    if (!isUuid(issueId)) throw new HTTPException(404, { message: "no such issue" });
    const started = await startSend(plan, {
      issueId,
      ...(body.test ? { test: body.test } : {}),
      ...(body.at ? { at: new Date(body.at) } : {}),
      again: body.again === true,
    });
    return c.json(started, 202);
  });

  app.get("/sends/:id", async (c) => c.json(await loadSendStatus(plan.database, c.req.param("id"))));

  app.post("/sends/:id/:action", async (c) => {
    const act = c.req.param("action") as ControlAction;
    if (!actions.includes(act)) throw new HTTPException(404, { message: "no such action" });
    return c.json(await controlSend(plan, c.req.param("id"), act));
  });

  return app;
}

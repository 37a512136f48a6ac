import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { isUuid } from "../ids.js";
import { findIssue } from "../issues/store.js";
import { approveSend, pendingApproval } from "../sending/approval.js";
import { countAudience } from "../sending/audience.js";
import { BreakerPausedError, type ControlAction, controlSend } from "../sending/control.js";
import { type PlanDeps, startSend } from "../sending/plan.js";
import { loadSendStatus } from "../sending/status.js";
import { apiActor } from "../staff/audit.js";

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
  /** The number of active readers the caller was shown: a real send needs it, and it must match. */
  confirm: z.number().int().nonnegative().optional(),
  /** The `rendition` POST /api/issues answered: a text changed since is refused (409), not sent. */
  rendition: z.string().max(64).optional(),
});
export type StartSendBody = z.infer<typeof StartSendBody>;

/** Approving a send whose issue changed after its approval: the count again, as for a new send. */
export const ApproveBody = z.strictObject({
  confirm: z.number().int().nonnegative().optional(),
  rendition: z.string().max(64).optional(),
});
export type ApproveBody = z.infer<typeof ApproveBody>;

/** Resume or retry a send a circuit breaker paused: `"force": true`, said on purpose. */
export const ControlBody = z.strictObject({ force: z.boolean().optional() });
export type ControlBody = z.infer<typeof ControlBody>;

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: "the body is not valid JSON" });
  }
}

/** 422 unless `confirm` is the number of active readers now. */
async function refuseUnconfirmed(c: Context, plan: PlanDeps, confirm: number | undefined, verb: string) {
  const activeReaders = await countAudience(plan.database);
  if (confirm === activeReaders) return { activeReaders, refusal: undefined };
  const message =
    confirm === undefined
      ? `${verb} needs "confirm": the number of active readers (${activeReaders} now)`
      : `"confirm" is ${confirm} but there are ${activeReaders} active readers now: nothing was sent`;
  return { activeReaders, refusal: c.json({ error: message, activeReaders }, 422) };
}

const actions: readonly ControlAction[] = ["pause", "resume", "cancel", "retry"];

export function sendRoutes(plan: PlanDeps) {
  const app = new Hono();

  app.post("/issues/:id/sends", async (c) => {
    const body = StartSendBody.parse(await jsonBody(c));
    const issueId = c.req.param("id");
    if (!isUuid(issueId)) throw new HTTPException(404, { message: "no such issue" });
    // A real send asks first, as the CLI does: the caller repeats the number of readers it goes to.
    let confirmed: number | undefined;
    if (!(await findIssue(plan.database.db, issueId)))
      throw new HTTPException(404, { message: "no such issue" });
    if (!body.test) {
      const { activeReaders, refusal } = await refuseUnconfirmed(c, plan, body.confirm, "a send to readers");
      if (refusal) return refusal;
      confirmed = activeReaders;
    }
    const started = await startSend(plan, {
      issueId,
      ...(body.test ? { test: body.test } : {}),
      ...(body.at ? { at: new Date(body.at) } : {}),
      again: body.again === true,
      ...(body.rendition && !body.test ? { shown: body.rendition } : {}),
    });
    // The list may change between the check and the snapshot: the send plans from the snapshot,
    // and the answer says both numbers.
    const changed =
      confirmed !== undefined && started.status === "running" && confirmed !== started.deliveries
        ? {
            note: `${confirmed} readers were confirmed; the list changed before the send started, and it planned ${started.deliveries} deliveries from its snapshot`,
          }
        : {};
    return c.json({ ...started, ...(confirmed === undefined ? {} : { confirmed }), ...changed }, 202);
  });

  app.get("/sends/:id", async (c) => {
    const id = c.req.param("id");
    if (!isUuid(id)) throw new HTTPException(400, { message: "not a send id" });
    return c.json(await loadSendStatus(plan.database, id));
  });

  app.post("/sends/:id/:action", async (c) => {
    const act = c.req.param("action") as ControlAction;
    if (!actions.includes(act)) throw new HTTPException(404, { message: "no such action" });
    const id = c.req.param("id");
    const waiting = act === "resume" ? await pendingApproval(plan.database.db, id) : undefined;
    if (waiting) {
      // Its issue changed after approval: resuming is approving the new text, with the count again.
      const body = ApproveBody.parse(await jsonBody(c));
      const { refusal } = await refuseUnconfirmed(c, plan, body.confirm, "approving the changed issue");
      if (refusal) return refusal;
      return c.json(await approveSend(plan, apiActor, id, body.rendition));
    }
    const body = ControlBody.parse(await jsonBody(c));
    try {
      return c.json(await controlSend(plan, id, act, { force: body.force === true }));
    } catch (error) {
      if (!(error instanceof BreakerPausedError)) throw error;
      return c.json(
        {
          error: `paused by its ${error.breaker} breaker: ${error.reason}. To go on anyway, ${act} with {"force": true}`,
          breaker: error.breaker,
          count: error.count,
        },
        409,
      );
    }
  });

  return app;
}

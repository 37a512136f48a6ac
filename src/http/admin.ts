import { createHash, timingSafeEqual } from "node:crypto";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { renditionHash } from "../issues/approval.js";
import { personalize } from "../issues/personalize.js";
import { findIssue, saveIssue } from "../issues/store.js";
import { apiActor } from "../staff/audit.js";
import { addSubscriber, listSubscribers } from "../subscribers/admin.js";
import { exportSubscribers, importSubscribers } from "../subscribers/csv.js";
import { eraseReader } from "../subscribers/erase.js";
import { unsuppress } from "../subscribers/suppression.js";
import type { AppDeps } from "./deps.js";
import { readFields } from "./request.js";

export const maxImportBytes = 200 * 1024 * 1024;
export const maxIssueBytes = 2 * 1024 * 1024;

/**
 * Bearer ADMIN_TOKEN, compared in constant time (both sides hashed first, so even the length leaks
 * nothing). Without ADMIN_TOKEN every admin request is refused.
 */
export function adminAuth(adminToken: string | undefined) {
  const expected = adminToken ? createHash("sha256").update(adminToken).digest() : undefined;
  return async (c: import("hono").Context, next: () => Promise<void>) => {
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    const ok =
      expected && given !== "" && timingSafeEqual(createHash("sha256").update(given).digest(), expected);
    if (!ok) {
      c.header("WWW-Authenticate", 'Bearer realm="digest admin"');
      return c.json(
        { error: expected ? "unauthorized" : "the admin API is disabled (ADMIN_TOKEN is unset)" },
        401,
      );
    }
    await next();
  };
}

const ListQuery = z.object({
  status: z.string().optional(),
  q: z.string().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  offset: z.coerce.number().int().min(0).max(10_000_000).optional(),
});

const truthy = (v: string | undefined) => v === "true" || v === "1" || v === "yes" || v === "on";

/** `/api/subscribers` and `/api/issues` (SPEC §4). Mounted under the bearer check by createApp. */
export function adminRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = new Hono();

  app.get("/subscribers", async (c) => {
    const query = ListQuery.parse(c.req.query());
    const page = await listSubscribers(db, { ...query, search: query.q });
    return c.json(page);
  });

  app.post("/subscribers", async (c) => {
    const fields = await readFields(c);
    const row = await addSubscriber(deps, {
      email: fields.email,
      name: fields.name,
      confirmed: truthy(fields.confirmed),
    });
    return c.json(row, 201);
  });

  // Streamed: the request body flows through the CSV parser a batch at a time.
  app.post("/subscribers/import", async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "text/csv" && type !== "text/plain") {
      throw new HTTPException(415, { message: "send the CSV as text/csv" });
    }
    if (Number(c.req.header("content-length") ?? 0) > maxImportBytes) {
      throw new HTTPException(413, { message: "the CSV is larger than 200 MB" });
    }
    const body = c.req.raw.body;
    if (!body) throw new HTTPException(400, { message: "the CSV is empty" });
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        done(
          seen > maxImportBytes ? new HTTPException(413, { message: "the CSV is larger than 200 MB" }) : null,
          chunk,
        );
      },
    });
    const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
    source.on("error", (error) => cap.destroy(error));
    const report = await importSubscribers(db, source.pipe(cap), {
      pending: truthy(c.req.query("pending")),
      notify: deps.notify,
    }).catch((error: unknown) => {
      throw error instanceof HTTPException || (error as { cause?: unknown }).cause instanceof HTTPException
        ? new HTTPException(413, { message: "the CSV is larger than 200 MB" })
        : error;
    });
    // One bad row and nothing was imported: the answer lists every bad row with its line and value.
    return c.json(report, report.invalidRows > 0 ? 422 : 200);
  });

  app.get("/subscribers/export", (c) => {
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("Content-Disposition", 'attachment; filename="subscribers.csv"');
    return c.body(Readable.toWeb(exportSubscribers(db)) as ReadableStream);
  });

  // GDPR erasure: the address in the path is the person's; only its hash stays behind.
  app.delete("/subscribers/:email", async (c) => {
    const id = await eraseReader(db, c.req.param("email"), apiActor);
    // Their queued or failed mail jobs go too; the erasure stands even if Redis cannot answer.
    if (id && deps.forgetJobs) {
      await deps
        .forgetJobs(id)
        .catch((error: unknown) => deps.log.warn({ err: error }, "erased reader's mail jobs not removed"));
    }
    return c.json({ erased: id !== undefined });
  });

  app.post("/subscribers/:email/unsuppress", async (c) => {
    const lifted = await unsuppress(db, c.req.param("email"));
    if (!lifted) throw new HTTPException(404, { message: "that address is not suppressed" });
    return c.json({ lifted });
  });

  app.post("/issues", bodyLimit({ maxSize: maxIssueBytes, onError: tooLarge }), async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    let markdown: string | undefined;
    if (type === "text/markdown" || type === "text/plain") markdown = await c.req.text();
    else if (type === "application/json") markdown = (await readFields(c)).markdown;
    else throw new HTTPException(415, { message: "send the issue as text/markdown or JSON {markdown}" });
    if (!markdown) throw new HTTPException(400, { message: "the issue is empty" });
    const saved = await saveIssue(db, markdown, deps.newsletter, "issue", apiActor);
    const { id, slug, subject, volume } = saved.issue;
    const unapproved = saved.unapprovedSends;
    return c.json(
      {
        id,
        slug,
        subject,
        volume,
        // What a send can name as the text its admin saw (`"rendition"` in POST /api/issues/:id/sends).
        rendition: renditionHash(saved.issue),
        warnings: saved.warnings,
        unapprovedSends: unapproved,
        ...(unapproved.length > 0
          ? {
              notice: `the text changed after ${unapproved.length === 1 ? "a send was" : "sends were"} approved: ${unapproved.join(", ")} will not start until an admin approves again (POST /api/sends/<id>/resume with "confirm")`,
            }
          : {}),
      },
      saved.created ? 201 : 200,
    );
  });

  // The rendition as a reader sees it, filled in for a sample reader; ?format=text for the text part.
  app.get("/issues/:id/preview", async (c) => {
    const issue = await findIssue(db, c.req.param("id"));
    if (!issue) throw new HTTPException(404, { message: "no such issue" });
    const filled = personalize(issue, {
      email: "reader@example.com",
      unsubscribeUrl: `${deps.publicUrl}/unsubscribe/sample`,
      manageUrl: `${deps.publicUrl}/manage/sample`,
      viewUrl: `${deps.publicUrl}/archive/${issue.slug}`,
    });
    return c.req.query("format") === "text" ? c.text(filled.text) : c.html(filled.html);
  });

  return app;
}

export const tooLarge = (): never => {
  throw new HTTPException(413, { message: "the request body is too large" });
};

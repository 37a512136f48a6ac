import { timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import { DigestError } from "../errors.js";
import { type MessageKey, messagesFor, t } from "../i18n/catalogue.js";
import { adminAuth, adminRoutes, tooLarge } from "./admin.js";
import type { AppDeps } from "./deps.js";
import { browserLanguage, configured } from "./language.js";
import { createMetrics } from "./metrics.js";
import { fill, messagePage } from "./pages.js";
import { warnUntrustedForwarding } from "./request.js";
import { statusOfKind } from "./status-codes.js";

export type { AppDeps } from "./deps.js";

/** Reader forms and JSON calls are small; only the admin import and issue routes take more. */
export const maxBodyBytes = 64 * 1024;

/**
 * The HTTP service (SPEC §4): public pages and the admin API, joined with `app.route()`. This is the
 * only place that knows status codes: domain code throws DigestError kinds, and the one `onError`
 * maps them, and every parse or validation failure, to a 4xx. Only a fault of ours is a 5xx.
 */
export async function createApp(deps: AppDeps) {
  // Imported here so that tests of one part do not load the other's dependencies.
  const { publicRoutes } = await import("./public.js");
  const metrics = createMetrics(deps.db, deps.bounceMailboxCounts);
  const app = new Hono();

  app.use("*", async (c, next) => {
    await next();
    metrics.countRequest(c.req.method, c.res.status);
  });
  if (deps.proxiesTrusted === false) app.use("*", warnUntrustedForwarding(deps.log));
  const small = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge });
  // The import streams with its own cap; the issue route allows 2 MB of Markdown; provider
  // webhooks post batches (their own 1 MB cap).
  app.use("*", (c, next) =>
    c.req.path === "/api/subscribers/import" ||
    c.req.path === "/api/issues" ||
    c.req.path.startsWith("/webhooks/") ||
    c.req.path.startsWith("/admin/")
      ? next()
      : small(c, next),
  );

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/metrics", async (c) => {
    if (!metricsAllowed(c, deps)) throw new HTTPException(401, { message: "metrics need the metrics token" });
    c.header("Content-Type", metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.use("/api/*", adminAuth(deps.adminToken));
  app.route("/api", adminRoutes(deps));
  if (deps.sending) {
    const { sendRoutes } = await import("./sends.js");
    app.route("/api", sendRoutes(deps.sending));
  }
  // The staff console (and the BullMQ dashboard in it) behind a session; it sets its own body limits.
  const { consoleRoutes } = await import("./console/index.js");
  app.route("/admin", await consoleRoutes(deps, deps.dashboardQueues));

  if (deps.webhooks) {
    const { maxWebhookBytes, webhookRoutes } = await import("./webhooks.js");
    app.use("/webhooks/*", bodyLimit({ maxSize: maxWebhookBytes, onError: tooLarge }));
    app.route("/webhooks", webhookRoutes(deps.webhooks, metrics.countProviderEvent));
  }

  app.route("/", publicRoutes(deps));

  const respond = (c: Context, status: number, message: string) => {
    const short = message.length > 300 ? `${message.slice(0, 300)}…` : message;
    const code = status as ContentfulStatusCode;
    if (c.req.path.startsWith("/api/") || (c.req.header("accept") ?? "").startsWith("application/json")) {
      return c.json({ error: short }, code);
    }
    const title = status >= 500 ? "error.serverTitle" : "error.title";
    // The staff console is English; its people need the message itself.
    if (c.req.path === "/admin" || c.req.path.startsWith("/admin/")) {
      return c.html(messagePage(deps.newsletter, "en", t("en", title), short), code);
    }
    const lang = browserLanguage(c, configured(deps));
    // Our code's own message (in English) follows in small print where it says what to fix.
    const detail =
      status >= 400 && status < 500 && status !== 404
        ? html`<p class="muted">${fill(messagesFor(lang)["error.detail"], { detail: html`<span lang="en">${short}</span>` })}</p>`
        : undefined;
    return c.html(
      messagePage(deps.newsletter, lang, t(lang, title), t(lang, errorText(status, c)), detail),
      code,
    );
  };
  app.notFound((c) => respond(c, 404, "not found"));
  app.onError((error, c) => {
    const [status, message] = classify(error);
    if (status >= 500) deps.log.error({ err: error, path: c.req.path }, "request failed");
    return respond(c, status, message);
  });
  return app;
}

/**
 * `/metrics` tells anyone how big the list is and how sends go: with METRICS_TOKEN set it needs
 * that bearer token (compared in constant time), without it only clients on this machine get it.
 */
function metricsAllowed(c: Context, deps: AppDeps): boolean {
  if (deps.metricsToken) {
    const given = Buffer.from(c.req.header("authorization") ?? "");
    const expected = Buffer.from(`Bearer ${deps.metricsToken}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  const client = deps.clientIp(c);
  return client !== undefined && isLoopback(client);
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === "::1";
}

/** What a reader is told about a failed request, in their language, by its status. */
function errorText(status: number, c: Context): MessageKey {
  if (status === 404) return "error.notFound";
  // A link from a mail that does not open is about the link, not about anything the reader typed.
  if (status === 400 && c.req.method === "GET" && /^\/(?:confirm|manage|unsubscribe)\//.test(c.req.path))
    return "error.badLink";
  if (status === 413) return "error.tooLarge";
  if (status === 429) return "error.tooMany";
  if (status === 503) return "error.unavailable";
  return status >= 500 ? "error.server" : "error.badRequest";
}

function classify(error: unknown): [number, string] {
  if (error instanceof HTTPException) return [error.status, error.message || "bad request"];
  if (error instanceof DigestError) return [statusOfKind[error.kind], error.message];
  if (error instanceof ZodError) {
    const [issue] = error.issues;
    return [400, issue ? `${issue.path.join(".") || "input"}: ${issue.message}` : "invalid input"];
  }
  // Hono's own body readers throw these for a malformed body.
  if (error instanceof SyntaxError || error instanceof URIError) return [400, "the request cannot be read"];
  return [500, "something went wrong on our side"];
}

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { cleanQuery, searchArchive } from "../issues/search.js";
import { rename, resubscribe, subscribe, subscriberForToken, unsubscribe } from "../subscribers/lifecycle.js";
import { archivedIssues, archivedIssuesWithStories, atomFeed, webVersion } from "./archive.js";
import { confirmRoutes, confirmScriptSource } from "./confirm.js";
import type { AppDeps } from "./deps.js";
import { editionRoutes } from "./edition.js";
import { homePage, managePage, messagePage, unsubscribePage } from "./pages.js";
import { limitKey, memoryRateLimiter, pageLimit, readFields } from "./request.js";
import { archivePage } from "./search-page.js";
import { searchText } from "./search-text.js";

/**
 * What every page that carries a token answers with, errors included: the token is a key to the
 * reader's subscription, so no cache keeps the page, no search engine lists it, and no other site
 * frames it to trick a click.
 */
export const tokenPageHeaders = {
  "Cache-Control": "no-store",
  "X-Robots-Tag": "noindex",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "Referrer-Policy": "no-referrer",
} as const;

/** The confirmation page may also run its one script, named by hash (see confirm.ts), and nothing else. */
export const confirmPageHeaders = {
  ...tokenPageHeaders,
  "Content-Security-Policy": `${tokenPageHeaders["Content-Security-Policy"]}; script-src ${confirmScriptSource}`,
} as const;

/**
 * What the archive's HTML answers with (the issue pages and the home page that lists them). An issue
 * is staff-written HTML with links and images from anywhere: nothing in it may run a script, frame
 * it, move its base or post a form elsewhere. Images load from any http(s) address, because an issue's
 * Markdown may name any; styles are the email's own inline ones.
 */
export const archivePageHeaders = {
  "Content-Security-Policy":
    "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
} as const;

/** The reader-facing routes of SPEC §4. None sets a cookie; none redirects. */
export function publicRoutes(deps: AppDeps) {
  const { db, newsletter, publicUrl } = deps;
  const app = new Hono();
  const pageLimiter = deps.pageLimiter ?? memoryRateLimiter(pageLimit);

  for (const path of ["/confirm/*", "/manage/*", "/unsubscribe/*"]) {
    const headers = path === "/confirm/*" ? confirmPageHeaders : tokenPageHeaders;
    app.use(path, async (c, next) => {
      const allowed = await pageLimiter.hit(`page:${limitKey(deps.clientIp(c))}`);
      if (!allowed) {
        for (const [name, value] of Object.entries(headers)) c.header(name, value);
        throw new HTTPException(429, { message: "too many requests from your address; try again later" });
      }
      await next();
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    });
  }

  // HTML only: a PDF edition is shown by the browser's own viewer, which a CSP can break.
  for (const path of ["/", "/archive", "/archive/*"]) {
    app.use(path, async (c, next) => {
      await next();
      if (!(c.res.headers.get("content-type") ?? "").startsWith("text/html")) return;
      for (const [name, value] of Object.entries(archivePageHeaders)) c.res.headers.set(name, value);
    });
  }

  app.get("/", async (c) => c.html(homePage(newsletter, await archivedIssues(db))));

  // Without a query, the archive; with one, the matching stories (GET, so a search is a link).
  app.get("/archive", async (c) => {
    const query = cleanQuery(c.req.query("q") ?? "");
    if (query === "") return c.html(archivePage(newsletter, await archivedIssues(db)));
    if (!(await pageLimiter.hit(`search:${limitKey(deps.clientIp(c))}`))) {
      throw new HTTPException(429, { message: searchText.tooManySearches });
    }
    // A results page is for the reader who asked: search engines keep to the archive itself.
    c.header("X-Robots-Tag", "noindex");
    return c.html(archivePage(newsletter, [], await searchArchive(db, query)));
  });

  app.route("/", editionRoutes(deps));
  app.get("/archive/:slug", async (c) => {
    const body = await webVersion(db, c.req.param("slug"), publicUrl);
    if (body === undefined) throw new HTTPException(404, { message: "no such issue" });
    return c.html(body);
  });

  app.get("/feed.xml", async (c) => {
    c.header("Content-Type", "application/atom+xml; charset=utf-8");
    return c.body(atomFeed(newsletter, publicUrl, await archivedIssuesWithStories(db)));
  });

  // The same 202 and body for a new, pending, active or suppressed address: nothing to enumerate.
  app.post("/subscribe", async (c) => {
    const ip = deps.clientIp(c);
    if (!(await deps.limiter.hit(`subscribe:${limitKey(ip)}`))) {
      throw new HTTPException(429, { message: "too many requests from your address; try again later" });
    }
    const fields = await readFields(c);
    const wantsJson = (c.req.header("content-type") ?? "").includes("json");
    // The honeypot: a field people never see. A bot that fills it in gets the usual answer and nothing else.
    if (!fields.website) {
      await subscribe(deps, { email: fields.email, name: fields.name, source: "web", ip });
    }
    const message = "Thank you. If the address can receive mail, a confirmation link is on its way.";
    return wantsJson
      ? c.json({ status: "accepted", message }, 202)
      : c.html(messagePage(newsletter, "Check your inbox", message), 202);
  });

  app.route("/", confirmRoutes(deps));

  app.get("/unsubscribe/:token", async (c) => {
    const token = c.req.param("token");
    await subscriberForToken(deps, "unsubscribe", token);
    return c.html(unsubscribePage(newsletter, token));
  });

  // RFC 8058 one-click: the POST itself is the request; no confirmation step, no cookie, no redirect.
  app.post("/unsubscribe/:token", async (c) => {
    const subscriber = await subscriberForToken(deps, "unsubscribe", c.req.param("token"));
    const result = await unsubscribe(deps, subscriber.id);
    if (result.goodbyeError) deps.log.warn({ err: result.goodbyeError }, "goodbye mail not queued");
    return c.html(
      messagePage(newsletter, "Unsubscribed", `You will receive no more mail from ${newsletter.name}.`),
      200,
    );
  });

  app.get("/manage/:token", async (c) => {
    const token = c.req.param("token");
    return c.html(managePage(newsletter, await subscriberForToken(deps, "manage", token), token));
  });

  app.post("/manage/:token", async (c) => {
    const token = c.req.param("token");
    const subscriber = await subscriberForToken(deps, "manage", token);
    const fields = await readFields(c);
    let notice: string;
    switch (fields.action) {
      case "name":
        await rename(db, subscriber.id, fields.name);
        notice = "Your name is saved.";
        break;
      case "unsubscribe": {
        const result = await unsubscribe(deps, subscriber.id);
        if (result.goodbyeError) deps.log.warn({ err: result.goodbyeError }, "goodbye mail not queued");
        notice = "You are unsubscribed.";
        break;
      }
      case "resubscribe":
        await resubscribe(deps, subscriber, deps.clientIp(c));
        notice = "Check your inbox: we sent a confirmation link.";
        break;
      default:
        throw new HTTPException(400, { message: "unknown action" });
    }
    const fresh = await subscriberForToken(deps, "manage", token);
    return c.html(managePage(newsletter, fresh, token, notice));
  });

  return app;
}

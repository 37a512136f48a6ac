import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { isLanguage, type MessageKey, messagesFor, t } from "../i18n/catalogue.js";
import { chooseLanguage } from "../i18n/choose.js";
import { cleanQuery, searchArchive } from "../issues/search.js";
import {
  rename,
  resubscribe,
  setLanguage,
  subscribe,
  subscriberForToken,
  unsubscribe,
} from "../subscribers/lifecycle.js";
import { setReaderTracking } from "../tracking/opt-out.js";
import { archivedIssues, archivedIssuesWithStories, atomFeed, webVersion } from "./archive.js";
import { confirmRoutes, confirmScriptSource } from "./confirm.js";
import type { AppDeps } from "./deps.js";
import { editionRoutes } from "./edition.js";
import { browserLanguage, configured, subscriberLanguage } from "./language.js";
import { homePage, managePage, messagePage, unsubscribePage } from "./pages.js";
import { limitKey, memoryRateLimiter, pageLimit, readFields } from "./request.js";
import { archivePage } from "./search-page.js";
import { trackingRoutes } from "./tracking.js";

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
  const languages = configured(deps);
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

  app.get("/", async (c) =>
    c.html(homePage(newsletter, browserLanguage(c, languages), await archivedIssues(db), languages)),
  );

  // Without a query, the archive; with one, the matching stories (GET, so a search is a link).
  app.get("/archive", async (c) => {
    const query = cleanQuery(c.req.query("q") ?? "");
    const lang = browserLanguage(c, languages);
    if (query === "") return c.html(archivePage(newsletter, lang, await archivedIssues(db)));
    if (!(await pageLimiter.hit(`search:${limitKey(deps.clientIp(c))}`))) {
      throw new HTTPException(429, { message: "too many searches from your address; try again later" });
    }
    // A results page is for the reader who asked: search engines keep to the archive itself.
    c.header("X-Robots-Tag", "noindex");
    return c.html(archivePage(newsletter, lang, [], await searchArchive(db, query)));
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
    const language = chooseLanguage(languages, {
      chosen: fields.language,
      acceptLanguage: c.req.header("accept-language"),
    });
    // The honeypot: a field people never see. A bot that fills it in gets the usual answer and nothing else.
    if (!fields.website) {
      await subscribe(deps, { email: fields.email, name: fields.name, source: "web", ip, language });
    }
    const m = messagesFor(language);
    const message = m["subscribe.accepted"];
    return wantsJson
      ? c.json({ status: "accepted", message }, 202)
      : c.html(messagePage(newsletter, language, m["subscribe.checkInboxTitle"], message), 202);
  });

  app.route("/", confirmRoutes(deps));
  app.route("/", trackingRoutes(deps));

  app.get("/unsubscribe/:token", async (c) => {
    const token = c.req.param("token");
    const subscriber = await subscriberForToken(deps, "unsubscribe", token);
    return c.html(unsubscribePage(newsletter, subscriberLanguage(subscriber, languages), token));
  });

  // RFC 8058 one-click: the POST itself is the request; no confirmation step, no cookie, no redirect.
  app.post("/unsubscribe/:token", async (c) => {
    const subscriber = await subscriberForToken(deps, "unsubscribe", c.req.param("token"));
    const result = await unsubscribe(deps, subscriber.id);
    if (result.goodbyeError) deps.log.warn({ err: result.goodbyeError }, "goodbye mail not queued");
    const language = subscriberLanguage(subscriber, languages);
    return c.html(
      messagePage(
        newsletter,
        language,
        t(language, "unsubscribed.title"),
        t(language, "unsubscribed.text", { newsletter: newsletter.name }),
      ),
      200,
    );
  });

  const tracking = deps.tracking
    ? {
        clicks: deps.tracking.clicks,
        opens: deps.tracking.opens,
        retentionDays: deps.tracking.retentionDays ?? 90,
      }
    : undefined;

  app.get("/manage/:token", async (c) => {
    const token = c.req.param("token");
    const subscriber = await subscriberForToken(deps, "manage", token);
    return c.html(
      managePage(
        newsletter,
        subscriberLanguage(subscriber, languages),
        subscriber,
        token,
        undefined,
        languages,
        tracking,
      ),
    );
  });

  app.post("/manage/:token", async (c) => {
    const token = c.req.param("token");
    const subscriber = await subscriberForToken(deps, "manage", token);
    const fields = await readFields(c);
    let notice: MessageKey;
    switch (fields.action) {
      case "name":
        await rename(db, subscriber.id, fields.name);
        notice = "manage.notice.nameSaved";
        break;
      case "language":
        // Only a configured language: anything else would be a page no catalogue can fill.
        if (!isLanguage(fields.language) || !languages.includes(fields.language)) {
          throw new HTTPException(400, { message: `language must be one of ${languages.join(", ")}` });
        }
        await setLanguage(db, subscriber.id, fields.language);
        notice = "manage.notice.languageSaved";
        break;
      case "unsubscribe": {
        const result = await unsubscribe(deps, subscriber.id);
        if (result.goodbyeError) deps.log.warn({ err: result.goodbyeError }, "goodbye mail not queued");
        notice = "manage.notice.unsubscribed";
        break;
      }
      case "resubscribe":
        await resubscribe(deps, subscriber, deps.clientIp(c));
        notice = "manage.notice.resubscribed";
        break;
      // Offered only while tracking is on, but always honoured: a reader's "off" must never fail.
      case "tracking":
        if (fields.tracking !== "on" && fields.tracking !== "off")
          throw new HTTPException(400, { message: "tracking must be on or off" });
        await setReaderTracking(db, subscriber.id, fields.tracking === "on");
        notice = fields.tracking === "on" ? "manage.notice.trackingOn" : "manage.notice.trackingOff";
        break;
      default:
        throw new HTTPException(400, { message: "unknown action" });
    }
    const fresh = await subscriberForToken(deps, "manage", token);
    const language = subscriberLanguage(fresh, languages);
    return c.html(managePage(newsletter, language, fresh, token, t(language, notice), languages, tracking));
  });

  return app;
}

import { type Context, Hono } from "hono";
import type { Logger } from "pino";
import type { Db } from "../db/database.js";
import { DigestError } from "../errors.js";
import { type EventRecorder, eventRecorder, type TrackingRequestFacts } from "../tracking/record.js";
import { type TrackingLinks, trackingLinks } from "../tracking/resolve.js";
import type { TokenKind } from "../tracking/token.js";

/**
 * `GET|HEAD /r/<token>` and `/o/<token>.gif` (SPEC §4). A click answers 302 to the URL stored for
 * that link of that send, never to anything taken from the request; an open answers a 1×1 GIF.
 * The answer never waits for the event: it is recorded afterwards (tracking/record.ts), so a slow
 * or failing database costs an event, not a reader.
 *
 * With TRACK_CLICKS (or TRACK_OPENS) off, the routes still answer tokens already mailed, since a
 * reader's old mail must keep working, and record nothing: turning tracking off stops the counting
 * at once, not only for later sends. A forged, truncated or unknown token gets 404 and is not
 * recorded.
 */
export interface TrackingDeps {
  clicks: boolean;
  opens: boolean;
  /** TRACKING_RETENTION_DAYS, for the manage page's explanation (90 when absent). */
  retentionDays?: number;
  /** Built from the database when absent; a test passes its own to wait for the writes. */
  links?: TrackingLinks;
  recorder?: EventRecorder;
}

/** The transparent 1×1 GIF89a (43 bytes). */
export const pixelGif = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");

const noStore = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Robots-Tag": "noindex",
} as const;

/** What the routes use of AppDeps (deps.ts), named here so the two files do not import each other. */
interface RouteDeps {
  db: Db;
  secret: string;
  log: Pick<Logger, "warn">;
  clientIp: (c: Context) => string | undefined;
  tracking?: TrackingDeps;
}

export function trackingRoutes(deps: RouteDeps) {
  const settings = deps.tracking ?? { clicks: false, opens: false };
  const links = settings.links ?? trackingLinks(deps.db, deps.secret);
  const recorder =
    settings.recorder ?? eventRecorder(deps.db, links, (message, err) => deps.log.warn({ err }, message));
  const app = new Hono();

  async function resolve(kind: TokenKind, token: string) {
    try {
      return await links.resolve(kind, token);
    } catch (error) {
      throw new DigestError("unavailable", "this link cannot be followed right now; please try again", {
        cause: error,
      });
    }
  }

  const gone = (what: string) =>
    new Response(`${what}\n`, {
      status: 404,
      headers: { ...noStore, "Content-Type": "text/plain; charset=utf-8" },
    });

  app.get("/r/:token", async (c) => {
    const resolved = await resolve("click", c.req.param("token"));
    if (!resolved?.url) return gone("This link is not known.");
    if (settings.clicks) recorder.record(resolved, "click", facts());
    return new Response(null, { status: 302, headers: { ...noStore, Location: resolved.url } });

    function facts(): TrackingRequestFacts {
      return {
        method: c.req.method,
        ip: deps.clientIp(c) ?? null,
        userAgent: c.req.header("user-agent") ?? null,
        at: new Date(),
      };
    }
  });

  app.get("/o/:file{[A-Za-z0-9_-]+\\.gif}", async (c) => {
    const resolved = await resolve("open", c.req.param("file").slice(0, -".gif".length));
    if (!resolved) return gone("This image is not known.");
    if (settings.opens)
      recorder.record(resolved, "open", {
        method: c.req.method,
        ip: deps.clientIp(c) ?? null,
        userAgent: c.req.header("user-agent") ?? null,
        at: new Date(),
      });
    return new Response(new Uint8Array(pixelGif), {
      status: 200,
      headers: { ...noStore, "Content-Type": "image/gif", "Content-Length": String(pixelGif.length) },
    });
  });

  return app;
}

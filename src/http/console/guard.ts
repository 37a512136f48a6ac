import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { readSession } from "../../staff/sessions.js";
import { type ConsoleDeps, type ConsoleEnv, cookieName } from "./deps.js";
import { formOf } from "./form.js";

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

const same = (a: string, b: string) =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

export function sessionCookie(deps: ConsoleDeps, value: string, c: Parameters<MiddlewareHandler>[0]) {
  setCookie(c, cookieName, value, {
    path: "/admin",
    httpOnly: true,
    sameSite: "Strict",
    secure: deps.publicUrl.startsWith("https:"),
  });
}

export function dropSessionCookie(c: Parameters<MiddlewareHandler>[0]) {
  deleteCookie(c, cookieName, { path: "/admin" });
}

/** The CSRF token the request carries: header `X-CSRF-Token`, else the form field `csrf`. */
async function csrfOf(c: Parameters<MiddlewareHandler>[0]): Promise<string | undefined> {
  const header = c.req.header("x-csrf-token");
  if (header) return header;
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") return undefined;
  // Hono caches the parsed body, so the route reads the same form again for free.
  const value = (await formOf(c)).csrf;
  return typeof value === "string" ? value : undefined;
}

/** The host the request's Origin header names; undefined when there is none or it is not a URL. */
function originHost(c: Parameters<MiddlewareHandler>[0]): string | undefined {
  const origin = c.req.header("origin");
  if (!origin) return undefined;
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** Whether `host` is this server's, as the Host header or the request URL names it. */
const isOwnHost = (c: Parameters<MiddlewareHandler>[0], host: string | undefined) =>
  host !== undefined && (host === c.req.header("host") || host === new URL(c.req.url).host);

/**
 * Every console route behind the login: a live session from the `digest_session` cookie, else a
 * 303 to the login page (GET) or 401 (anything else). State-changing requests also need the
 * session's CSRF token, else 403 before any handler runs, so nothing changes.
 */
export function requireSession(deps: ConsoleDeps): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const id = getCookie(c, cookieName);
    const session = id ? await readSession(deps.db, id) : undefined;
    if (!session) {
      if (id) dropSessionCookie(c);
      if (c.req.method === "GET" || c.req.method === "HEAD") {
        const back = c.req.path === "/admin" ? "" : `?next=${encodeURIComponent(c.req.path)}`;
        return c.redirect(`/admin/login${back}`, 303);
      }
      throw new HTTPException(401, { message: "sign in first" });
    }
    if (!safeMethods.has(c.req.method) && c.req.path.startsWith("/admin/queues/")) {
      // The BullMQ dashboard's own scripts cannot send our token; its requests must come from this
      // origin instead (browsers always send Origin on those), which a forged cross-site form cannot.
      const host = originHost(c);
      if (!host || !isOwnHost(c, host))
        throw new HTTPException(403, {
          message: "the queue dashboard only takes requests from its own pages",
        });
    } else if (!safeMethods.has(c.req.method)) {
      const given = await csrfOf(c);
      if (!given || !same(given, session.csrf))
        throw new HTTPException(403, {
          message: "the form has expired or did not come from this console; reload the page and try again",
        });
    }
    c.set("session", session);
    c.header("Cache-Control", "no-store");
    await next();
  };
}

/** Sends, scheduling, readers and staff: admins only (SPEC §4 roles). */
export const adminOnly: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (c.get("session").account.role !== "admin")
    throw new HTTPException(403, { message: "this needs an admin; ask one to do it or to change your role" });
  await next();
};

/** The host a URL header (Origin, Referer) names; undefined when it is not a URL ("null" included). */
function hostOf(value: string): string | undefined {
  try {
    return new URL(value).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Login and setup forms have no session (so no CSRF token) yet. Without this, a page elsewhere could
 * sign a browser in to an account of its choosing (login CSRF) and watch what the victim then types
 * into "their" console. Every browser sends Origin on a form POST: it must name this server. "null"
 * (a sandboxed frame, a data: URL, a redirect chain) is refused too, being exactly what a forging
 * page can make a browser send. With no Origin (curl, scripts, very old browsers) a Referer, when
 * there is one, must name this server; with neither the form is taken, as no browser forges that.
 */
export const sameOrigin: MiddlewareHandler = async (c, next) => {
  if (!safeMethods.has(c.req.method)) {
    const origin = c.req.header("origin");
    const referer = c.req.header("referer");
    const from = origin !== undefined ? origin : referer;
    if (from !== undefined && !isOwnHost(c, hostOf(from)))
      throw new HTTPException(403, { message: "this form did not come from this console" });
  }
  await next();
};

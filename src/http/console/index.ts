import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { packageRoot } from "../../paths.js";
import { recordAudit } from "../../staff/audit.js";
import { endSession } from "../../staff/sessions.js";
import { authRoutes } from "./auth.js";
import { type ConsoleDeps, type ConsoleEnv, cookieName } from "./deps.js";
import { doctorRoutes } from "./doctor-page.js";
import { consoleError } from "./error-page.js";
import { adminOnly, dropSessionCookie, requireSession } from "./guard.js";
import { issueRoutes } from "./issues.js";
import { overviewRoutes } from "./overview.js";
import { sendRoutes } from "./sends.js";
import { staffRoutes } from "./staff-pages.js";
import { consoleCss } from "./style.js";
import { maxConsoleImportBytes, subscriberRoutes } from "./subscribers.js";

/** Markdown up to 2 MB; the CSV import up to its own cap (plus the form's overhead). */
const maxFormBytes = 2 * 1024 * 1024;
const tooLarge = (): never => {
  throw new HTTPException(413, { message: "the request body is too large" });
};

/**
 * The staff console, mounted at /admin (SPEC §4): server-rendered pages behind a session cookie,
 * with a CSRF token on every state-changing request and roles checked per route.
 */
export async function consoleRoutes(deps: ConsoleDeps, dashboardQueues?: Queue[]) {
  const app = new Hono<ConsoleEnv>();
  app.onError(consoleError);
  const small = bodyLimit({ maxSize: maxFormBytes, onError: tooLarge });
  const large = bodyLimit({ maxSize: maxConsoleImportBytes * 2 + 64 * 1024, onError: tooLarge });
  app.use("*", (c, next) =>
    c.req.path.startsWith("/admin/subscribers/import") ? large(c, next) : small(c, next),
  );
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("X-Frame-Options")) c.header("X-Frame-Options", "DENY");
  });

  app.get("/static/console.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "public, max-age=300");
    return c.body(consoleCss);
  });
  // Japanese text must not depend on the staff member's installed fonts (the OFL font ships with us).
  for (const [weight, file] of [
    ["400", "NotoSansJP_400Regular.ttf"],
    ["700", "NotoSansJP_700Bold.ttf"],
  ] as const) {
    app.get(`/static/noto-sans-jp-${weight}.ttf`, async (c) => {
      const font = await readFile(join(packageRoot, "assets", "fonts", file));
      c.header("Content-Type", "font/ttf");
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(font));
    });
  }
  app.route("/", authRoutes(deps));

  const inside = new Hono<ConsoleEnv>();
  inside.use("*", requireSession(deps));
  inside.post("/logout", async (c) => {
    const id = getCookie(c, cookieName);
    if (id) await endSession(deps.db, id);
    const { account } = c.get("session");
    await recordAudit(deps.db, { staffId: account.id, email: account.email }, "staff.logout", account.email);
    dropSessionCookie(c);
    return c.redirect("/admin/login", 303);
  });
  inside.route("/", overviewRoutes(deps));
  inside.route("/doctor", doctorRoutes(deps));
  inside.route("/issues", issueRoutes(deps));
  inside.route("/sends", sendRoutes(deps));
  inside.use("/subscribers", adminOnly);
  inside.use("/subscribers/*", adminOnly);
  inside.route("/subscribers", subscriberRoutes(deps));
  inside.route("/", staffRoutes(deps));
  inside.use("/queues", adminOnly);
  inside.use("/queues/*", adminOnly);
  if (dashboardQueues) {
    const { dashboard } = await import("../dashboard.js");
    inside.route("/queues", dashboard(dashboardQueues));
  }
  app.route("/", inside);
  return app;
}

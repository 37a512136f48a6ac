/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { DigestError } from "../../errors.js";
import { accountForSetup, authenticate, setPasswordFromLink } from "../../staff/accounts.js";
import { minPasswordLength } from "../../staff/password.js";
import { createSession } from "../../staff/sessions.js";
import { loginSucceeded, startLoginAttempt } from "../../staff/throttle.js";
import { readFields } from "../request.js";
import { type ConsoleDeps, clientAddress } from "./deps.js";
import { sameOrigin, sessionCookie } from "./guard.js";
import { Notice, Page } from "./layout.js";

/** Only console paths are followed after login, so the link cannot send anyone elsewhere. */
const safeNext = (next: string | undefined) =>
  next && /^\/admin(\/[A-Za-z0-9/_.-]*)?$/.test(next) && !next.startsWith("//") ? next : "/admin";

function LoginPage(props: { error?: string; email?: string; next?: string; notice?: string }) {
  return (
    <Page title="Sign in">
      <div class="login card">
        <h1>Sign in</h1>
        {props.notice && <Notice kind="ok">{props.notice}</Notice>}
        {props.error && <Notice kind="bad">{props.error}</Notice>}
        <form method="post" action="/admin/login">
          <input type="hidden" name="next" value={safeNext(props.next)} />
          <div class="field">
            <label for="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="username"
              required
              value={props.email ?? ""}
            />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted small" style="margin-top:16px">
          No account yet? An admin runs <code>digest staff add you@example.org</code> and gives you the link.
        </p>
      </div>
    </Page>
  );
}

function SetupPage(props: { email: string; error?: string }) {
  return (
    <Page title="Set your password">
      <div class="login card">
        <h1>Set your password</h1>
        <p>
          For <strong>{props.email}</strong>. This link works once.
        </p>
        {props.error && <Notice kind="bad">{props.error}</Notice>}
        <form method="post">
          <div class="field">
            <label for="password">
              New password <span class="hint">(at least {minPasswordLength} characters)</span>
            </label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="new-password"
              required
              minlength={minPasswordLength}
            />
          </div>
          <div class="field">
            <label for="repeat">Repeat it</label>
            <input id="repeat" name="repeat" type="password" autocomplete="new-password" required />
          </div>
          <button type="submit">Set password</button>
        </form>
      </div>
    </Page>
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sign in, sign out and the setup link: the console routes that need no session. */
export function authRoutes(deps: ConsoleDeps) {
  const app = new Hono();
  app.use("*", sameOrigin);

  app.get("/login", (c) =>
    c.html(
      <LoginPage
        next={c.req.query("next")}
        notice={c.req.query("done") === "setup" ? "Password set. Sign in with it." : undefined}
      />,
    ),
  );

  app.post("/login", async (c) => {
    const fields = await readFields(c);
    const email = (fields.email ?? "").slice(0, 254);
    const password = fields.password ?? "";
    const client = clientAddress(deps, c);
    const attempt = await startLoginAttempt(deps.db, email, client);
    if (attempt.refused) {
      c.header("Retry-After", "900");
      return c.html(
        <LoginPage email={email} error="Too many failed attempts. Wait 15 minutes and try again." />,
        429,
      );
    }
    if (attempt.delayMs > 0) await sleep(attempt.delayMs);
    const account = email && password ? await authenticate(deps.db, email, password) : undefined;
    // A wrong password stays counted: the attempt was counted as a failure when it started.
    if (!account) {
      return c.html(
        <LoginPage
          email={email}
          next={fields.next}
          error="That email and password do not match an account."
        />,
        401,
      );
    }
    await loginSucceeded(deps.db, email, attempt);
    sessionCookie(deps, await createSession(deps.db, account), c);
    return c.redirect(safeNext(fields.next), 303);
  });

  app.get("/setup/:token", async (c) => {
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    const account = await accountForSetup(deps.db, c.req.param("token"));
    if (!account)
      throw new DigestError(
        "not_found",
        "This setup link is unknown, used or expired. Ask an admin for a new one.",
      );
    return c.html(<SetupPage email={account.email} />);
  });

  app.post("/setup/:token", async (c) => {
    c.header("Cache-Control", "no-store");
    const token = c.req.param("token");
    const account = await accountForSetup(deps.db, token);
    if (!account)
      throw new DigestError(
        "not_found",
        "This setup link is unknown, used or expired. Ask an admin for a new one.",
      );
    const fields = await readFields(c);
    const password = fields.password ?? "";
    if (password !== (fields.repeat ?? ""))
      return c.html(<SetupPage email={account.email} error="The two passwords differ." />, 422);
    try {
      await setPasswordFromLink(deps.db, token, password);
    } catch (error) {
      if (error instanceof DigestError && error.kind === "invalid")
        return c.html(<SetupPage email={account.email} error={error.message} />, 422);
      throw error;
    }
    return c.redirect("/admin/login?done=setup", 303);
  });

  return app;
}

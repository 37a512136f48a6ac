/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DigestError } from "../../errors.js";
import type { Session } from "../../staff/sessions.js";
import { statusOfKind } from "../status-codes.js";
import { Notice, Page } from "./layout.js";

const titles: Record<number, string> = {
  401: "Sign in first",
  403: "Not allowed",
  404: "Not found",
  409: "That cannot be done now",
  413: "Too large",
  429: "Too many attempts",
};

/**
 * Console errors as console pages (with the navigation, for a signed-in person). Anything that is
 * not a refusal we expect is thrown on to the app's one onError.
 */
export function consoleError(error: Error, c: Context): Response | Promise<Response> {
  const status =
    error instanceof HTTPException
      ? (error.status as ContentfulStatusCode)
      : error instanceof DigestError
        ? statusOfKind[error.kind]
        : undefined;
  if (status === undefined || status >= 500) throw error;
  const message = (error.message || "bad request").slice(0, 300);
  if ((c.req.header("accept") ?? "").startsWith("application/json"))
    return c.json({ error: message }, status);
  const session = c.get("session") as Session | undefined;
  return c.html(
    <Page title={titles[status] ?? "That did not work"} session={session}>
      <div class="card login">
        <h1>{titles[status] ?? "That did not work"}</h1>
        <Notice kind="bad">{message}</Notice>
        <p>
          <a href={session ? "/admin" : "/admin/login"}>{session ? "Back to the overview" : "Sign in"}</a>
        </p>
      </div>
    </Page>,
    status,
  );
}

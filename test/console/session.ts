import type { Hono } from "hono";
import type { Db } from "../../src/db/database.js";
import { addStaff, setPasswordFromLink } from "../../src/staff/accounts.js";
import { cliActor } from "../../src/staff/audit.js";

/** Console accounts and signed-in sessions for tests, made the way staff make them. */
export const password = "correct horse battery staple";

export async function staffMember(db: Db, email: string, role: "admin" | "editor") {
  const { token } = await addStaff(db, cliActor, { email, role });
  await setPasswordFromLink(db, token, password);
}

export interface SignedIn {
  cookie: string;
  csrf: string;
  /** A request with this session's cookie (and, for forms, its CSRF token unless `csrf: false`). */
  get(path: string): Promise<Response>;
  post(path: string, fields?: Record<string, string>, options?: { csrf?: boolean }): Promise<Response>;
}

type App = Pick<Hono, "request">;

export async function signIn(app: App, email: string, pass = password): Promise<SignedIn> {
  const res = await app.request("/admin/login", form({ email, password: pass }));
  if (res.status !== 303) throw new Error(`login of ${email} got ${res.status}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await (await app.request("/admin/account", { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf" value="([^"]+)"/)?.[1];
  if (!csrf) throw new Error("no CSRF token on the account page");
  return {
    cookie,
    csrf,
    get: async (path) => app.request(path, { headers: { cookie } }),
    post: async (path, fields = {}, options = {}) => {
      const init = form(options.csrf === false ? fields : { ...fields, csrf });
      return app.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
    },
  };
}

export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

import type { Context } from "hono";
import { DigestError } from "../../errors.js";
import type { PlanDeps } from "../../sending/plan.js";
import type { Actor } from "../../staff/audit.js";
import type { Session } from "../../staff/sessions.js";
import type { AppDeps } from "../deps.js";

/** What the console reads from the app's wiring; TIMEZONE defaults to UTC. */
export type ConsoleDeps = AppDeps;

export type ConsoleEnv = { Variables: { session: Session } };
export type ConsoleContext = Context<ConsoleEnv>;

export const cookieName = "digest_session";

/**
 * The client's address for login throttling. The one place the console asks: the app's
 * `clientIp` (the socket today; the TRUSTED_PROXIES rule once serve passes it).
 */
export const clientAddress = (deps: ConsoleDeps, c: Context): string | undefined => deps.clientIp(c);

export const timezoneOf = (deps: ConsoleDeps) => deps.timezone ?? "UTC";

/** What sends and test sends run with; a 503 (`unavailable`) when this server has no sending wired. */
export function sendingOf(deps: ConsoleDeps): PlanDeps {
  if (!deps.sending) throw new DigestError("unavailable", "sending is not configured on this server");
  return deps.sending;
}

export const actorOf = (session: Session): Actor => ({
  staffId: session.account.id,
  email: session.account.email,
});

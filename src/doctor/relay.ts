import { relaySessionOptions } from "../sending/mailer.js";
import { type SessionOptions, type SmtpError, SmtpSession } from "../sending/smtp-session.js";
import { type Check, fail, ok, warn } from "./check.js";

/**
 * The relay of SMTP_URL, reached as the workers reach it (same TLS settings, same session code):
 * does it answer EHLO (`relay`), is the session protected by TLS (`relay-starttls`), and does it
 * accept the URL's user and password (`relay-auth`, a real AUTH). Each failure says which step
 * failed, because "no answer", "no STARTTLS" and "wrong password" have different fixes.
 */
export interface RelaySettings {
  smtpUrl?: string;
  tls: { mode: "verify" | "insecure"; ca?: string };
  /** Longest wait for connecting and for each answer. */
  timeoutMs: number;
}

const notChecked = (why: string): Check[] => [
  fail("relay-starttls", `not checked: ${why}`),
  fail("relay-auth", `not checked: ${why}`),
];

const caFix =
  "if the relay's certificate comes from a private CA, set SMTP_CA_FILE=/path/to/ca.pem; otherwise fix the relay's certificate (SMTP_TLS=insecure skips the check: only for tests)";

async function open(options: SessionOptions): Promise<SmtpSession | SmtpError> {
  try {
    return await SmtpSession.open(options);
  } catch (error) {
    return error as SmtpError;
  }
}

export async function relayChecks(settings: RelaySettings): Promise<Check[]> {
  if (!settings.smtpUrl)
    return [
      fail(
        "relay",
        "SMTP_URL is not set: the workers have no relay to send through",
        "SMTP_URL=smtp://USER:PASSWORD@smtp.your-relay.example:587 (or smtps://...:465)",
      ),
      ...notChecked("SMTP_URL is not set"),
    ];
  let options: SessionOptions;
  try {
    options = relaySessionOptions(
      { smtpUrl: settings.smtpUrl, socketTimeoutMs: settings.timeoutMs, tls: settings.tls },
      settings.timeoutMs,
    );
  } catch (error) {
    return [
      fail("relay", `SMTP_URL cannot be used: ${(error as Error).message}`),
      ...notChecked("SMTP_URL cannot be used"),
    ];
  }
  const where = `${options.host}:${options.port}`;
  const { auth, ...anonymous } = options;
  // The first session never logs in: a relay without TLS must not see the password in clear. It
  // does not insist on TLS either, so a relay without STARTTLS is reported as exactly that.
  const session = await open({ ...anonymous, requireTLS: false });
  if (!(session instanceof SmtpSession)) {
    if (session.code === "ETLS")
      return [
        options.secure
          ? fail("relay", `${where} could not be reached: its TLS handshake failed (see relay-starttls)`)
          : ok("relay", `${where} answers EHLO`),
        fail("relay-starttls", `TLS with ${where} failed: ${session.message}`, caFix),
        fail("relay-auth", "not tried: no TLS session to log in over"),
      ];
    const refused = session.code === "EPROTOCOL";
    return [
      fail(
        "relay",
        refused
          ? `${where} refused the session: ${session.response ?? session.message}`
          : `no answer from ${where}: ${session.message}`,
        refused
          ? "ask the relay's operator to allow this host, or use the relay's submission port (587)"
          : "check the host and port in SMTP_URL, and that this machine may connect to it (many networks block port 25: use 587 or 465)",
      ),
      ...notChecked(`${where} did not answer`),
    ];
  }
  const secured = session.secured;
  const mechanisms = [...session.authMechanisms];
  session.quit();
  const checks: Check[] = [ok("relay", `${where} answers EHLO`)];
  if (!secured)
    checks.push(
      fail(
        "relay-starttls",
        `${where} offers no STARTTLS: the password and every message would cross the network in clear`,
        "use the relay's submission port with STARTTLS (smtp://...:587) or implicit TLS (smtps://...:465) in SMTP_URL",
      ),
    );
  else if (settings.tls.mode === "insecure")
    checks.push(
      warn(
        "relay-starttls",
        `TLS with ${where}, but its certificate is not checked (SMTP_TLS=insecure): anyone on the path can read and change every message`,
        `unset SMTP_TLS; ${caFix}`,
      ),
    );
  else checks.push(ok("relay-starttls", `TLS with ${where}, certificate verified`));
  checks.push(await authCheck(options, auth, secured, mechanisms, where));
  return checks;
}

async function authCheck(
  options: SessionOptions,
  auth: SessionOptions["auth"],
  secured: boolean,
  mechanisms: string[],
  where: string,
): Promise<Check> {
  const id = "relay-auth";
  if (!auth)
    return mechanisms.length > 0
      ? warn(
          id,
          `SMTP_URL has no user and password, and ${where} offers AUTH (${mechanisms.join(" ")}): most relays refuse mail from clients that do not log in`,
          "SMTP_URL=smtp://USER:PASSWORD@host:port",
        )
      : ok(id, `${where} asks for no AUTH (it trusts this host)`);
  if (!secured) return fail(id, "not tried: the password would go in clear without TLS (see relay-starttls)");
  if (mechanisms.length === 0)
    return fail(
      id,
      `${where} offers no AUTH, yet SMTP_URL has the user ${auth.user}: the relay will not know who sends`,
      "use the relay's submission port (587 or 465), which offers AUTH, or remove the user and password from SMTP_URL if the relay trusts this host",
    );
  const session = await open(options);
  if (session instanceof SmtpSession) {
    session.quit();
    return ok(id, `${where} accepted AUTH for ${auth.user}`);
  }
  if (session.code === "EAUTH")
    return fail(
      id,
      `${where} refused AUTH for ${auth.user}: ${session.response ?? session.message}`,
      "check the user and password in SMTP_URL (percent-encode @ : / % in them), and that the relay allows this user to send",
    );
  return fail(id, `AUTH for ${auth.user} did not finish: ${session.message}`);
}

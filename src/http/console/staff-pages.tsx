/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { staffRoles } from "../../db/schema.js";
import { DigestError } from "../../errors.js";
import { addStaff, changePassword, changeRole, listStaff, removeStaff } from "../../staff/accounts.js";
import { recentAudit } from "../../staff/audit.js";
import { minPasswordLength } from "../../staff/password.js";
import { endAllSessions, type Session } from "../../staff/sessions.js";
import { actorOf, type ConsoleDeps, type ConsoleEnv, timezoneOf } from "./deps.js";
import { fieldText, formOf } from "./form.js";
import { adminOnly, dropSessionCookie } from "./guard.js";
import { Action, AuditTable, Badge, Csrf, Notice, Page } from "./layout.js";
import { showTime } from "./time.js";

function AccountPage({ session, error, notice }: { session: Session; error?: string; notice?: string }) {
  return (
    <Page title="Your account" session={session} section="account">
      <h1>Your account</h1>
      <p class="muted">
        {session.account.email} · <Badge status={session.account.role} />
      </p>
      {notice && <Notice kind="ok">{notice}</Notice>}
      {error && <Notice kind="bad">{error}</Notice>}
      <div class="grid">
        <div class="card">
          <h2>Change password</h2>
          <form method="post" action="/admin/account/password">
            <Csrf session={session} />
            <div class="field">
              <label for="current">Current password</label>
              <input id="current" name="current" type="password" autocomplete="current-password" required />
            </div>
            <div class="field">
              <label for="password">
                New password <span class="hint">(at least {minPasswordLength} characters)</span>
              </label>
              <input id="password" name="password" type="password" autocomplete="new-password" required />
            </div>
            <button type="submit">Change password</button>
          </form>
        </div>
        <div class="card">
          <h2>Sessions</h2>
          <p>Signed in on a shared or lost device? End every session of this account, this one included.</p>
          <Action
            session={session}
            action="/admin/account/logout-everywhere"
            label="Sign out everywhere"
            kind="danger"
          />
        </div>
      </div>
    </Page>
  );
}

/** Staff accounts (admins) and each person's own account page. */
export function staffRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const tz = timezoneOf(deps);
  const form = formOf;
  const str = fieldText;

  async function staffPage(
    session: Session,
    extra: { link?: string; email?: string; renewed?: boolean; error?: string } = {},
  ) {
    const [accounts, audit] = await Promise.all([listStaff(deps.db), recentAudit(deps.db, undefined, 200)]);
    const staffAudit = audit.filter((e) => e.action.startsWith("staff.")).slice(0, 30);
    return (
      <Page title="Staff" session={session} section="staff">
        <h1>Staff</h1>
        {extra.link && (
          <Notice kind="ok">
            Setup link for {extra.email} (works once, for 24 hours; send it privately)
            {extra.renewed &&
              "; every session of this account is signed out, and its old password no longer works"}
            :
            <br />
            <code id="setup-link">{extra.link}</code>
          </Notice>
        )}
        {extra.error && <Notice kind="bad">{extra.error}</Notice>}
        <div class="card">
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Email</th>
                  <th>Role</th>
                  <th class="hide-narrow">Password</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {accounts.map((a) => (
                  <tr>
                    <td>{a.email}</td>
                    <td>
                      <form method="post" action="/admin/staff/role" class="actions">
                        <Csrf session={session} />
                        <input type="hidden" name="email" value={a.email} />
                        <select name="role" aria-label={`Role of ${a.email}`}>
                          {staffRoles.map((r) => (
                            <option value={r} selected={a.role === r}>
                              {r}
                            </option>
                          ))}
                        </select>
                        <button type="submit" class="secondary">
                          Save
                        </button>
                      </form>
                    </td>
                    <td class="hide-narrow small">{a.passwordHash ? "set" : "setup link pending"}</td>
                    <td>
                      <div class="actions">
                        <Action
                          session={session}
                          action="/admin/staff"
                          label="New setup link"
                          kind="secondary"
                          fields={{ email: a.email, role: a.role }}
                        />
                        {a.id !== session.account.id && (
                          <Action
                            session={session}
                            action="/admin/staff/remove"
                            label="Remove"
                            kind="danger"
                            fields={{ email: a.email }}
                          />
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div>
          <div class="card">
            <h2>Add staff</h2>
            <form method="post" action="/admin/staff">
              <Csrf session={session} />
              <div class="field">
                <label for="staff-email">Email</label>
                <input id="staff-email" name="email" type="email" required />
              </div>
              <div class="field">
                <label for="staff-role">Role</label>
                <select id="staff-role" name="role">
                  <option value="editor">editor: drafts, previews, test sends</option>
                  <option value="admin">admin: also sends, readers and staff</option>
                </select>
              </div>
              <button type="submit">Add and show the setup link</button>
            </form>
          </div>
          <div class="card">
            <h2>Recent staff changes</h2>
            <AuditTable entries={staffAudit} timeZone={tz} />
            <p class="small" style="margin-top:8px">
              <a href="/admin/audit">The whole audit log</a> · now {showTime(new Date(), tz)}
            </p>
          </div>
        </div>
      </Page>
    );
  }

  const refusing = async <T,>(session: Session, run: () => Promise<T>) => {
    try {
      await run();
      return undefined;
    } catch (error) {
      if (error instanceof DigestError && error.kind !== "unavailable")
        return staffPage(session, { error: error.message });
      throw error;
    }
  };

  app.get("/staff", adminOnly, async (c) => c.html(await staffPage(c.get("session"))));

  app.post("/staff", adminOnly, async (c) => {
    const session = c.get("session");
    const fields = await form(c);
    let added: Awaited<ReturnType<typeof addStaff>> | undefined;
    const refused = await refusing(session, async () => {
      added = await addStaff(deps.db, actorOf(session), { email: fields.email, role: fields.role });
    });
    if (refused || !added) return c.html(refused ?? "", 422);
    const link = `${deps.publicUrl}/admin/setup/${added.token}`;
    return c.html(
      await staffPage(session, { link, email: added.account.email, renewed: !added.created }),
      added.created ? 201 : 200,
    );
  });

  app.post("/staff/role", adminOnly, async (c) => {
    const session = c.get("session");
    const fields = await form(c);
    const refused = await refusing(session, () =>
      changeRole(deps.db, actorOf(session), str(fields.email), fields.role),
    );
    return refused ? c.html(refused, 409) : c.redirect("/admin/staff", 303);
  });

  app.post("/staff/remove", adminOnly, async (c) => {
    const session = c.get("session");
    const email = str((await form(c)).email);
    if (email.toLowerCase() === session.account.email.toLowerCase())
      return c.html(
        await staffPage(session, { error: "You cannot remove yourself; ask another admin." }),
        409,
      );
    const refused = await refusing(session, async () => {
      if (!(await removeStaff(deps.db, actorOf(session), email)))
        throw new DigestError("not_found", `no staff account ${email}`);
    });
    return refused ? c.html(refused, 409) : c.redirect("/admin/staff", 303);
  });

  app.get("/account", (c) =>
    c.html(
      <AccountPage
        session={c.get("session")}
        notice={
          c.req.query("done") === "password"
            ? "Password changed. Every other session of this account is signed out."
            : undefined
        }
      />,
    ),
  );

  app.post("/account/password", async (c) => {
    const session = c.get("session");
    const fields = await form(c);
    try {
      await changePassword(deps.db, session, str(fields.current), str(fields.password));
    } catch (error) {
      if (error instanceof DigestError && (error.kind === "invalid" || error.kind === "forbidden"))
        return c.html(<AccountPage session={session} error={error.message} />, 422);
      throw error;
    }
    return c.redirect("/admin/account?done=password", 303);
  });

  app.post("/account/logout-everywhere", async (c) => {
    await endAllSessions(deps.db, c.get("session").account);
    dropSessionCookie(c);
    return c.redirect("/admin/login", 303);
  });

  return app;
}

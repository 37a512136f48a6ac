import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { saveIssue } from "../../src/issues/store.js";
import { addStaff } from "../../src/staff/accounts.js";
import { cliActor } from "../../src/staff/audit.js";
import { startService } from "../http/harness.js";
import { guessesInTurn } from "./guesses.js";
import { form, password, signIn, staffMember } from "./session.js";

/** The staff console through app.request(), with real Postgres and Redis behind it. */
const service = await startService({ worker: false, sending: true });
const { app, database, newsletter } = service;
const db = database.db;
const issueSource = readFileSync("examples/issues/vol-2-6.md", "utf8");
const issueId = (await saveIssue(db, issueSource, newsletter)).issue.id;
await database.query(sql`insert into subscribers (email, status, consent_source)
  select 'r' || i || '@readers.test', 'active', 'admin' from generate_series(1, 5) as i`);
await staffMember(db, "admin@staff.test", "admin");
await staffMember(db, "editor@staff.test", "editor");
const admin = await signIn(app, "admin@staff.test");
const editor = await signIn(app, "editor@staff.test");

const count = async (table: string) =>
  (await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n ?? 0;
const snapshot = async () =>
  Object.fromEntries(
    await Promise.all(
      [
        "issues",
        "sends",
        "deliveries",
        "subscribers",
        "staff",
        "staff_sessions where revoked_at is null",
        "audit_log",
      ].map(async (t) => [t, await count(t)] as const),
    ),
  );

describe("signing in", () => {
  it("sends a visitor without a session to the login page", async () => {
    const res = await app.request("/admin");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
    expect((await app.request("/admin/issues/new")).headers.get("location")).toBe(
      "/admin/login?next=%2Fadmin%2Fissues%2Fnew",
    );
    expect((await app.request("/admin/login")).status).toBe(200);
  });

  it("sets digest_session as HttpOnly and SameSite=Strict, not Secure on plain http", async () => {
    const res = await app.request("/admin/login", form({ email: "admin@staff.test", password }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^digest_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it("marks the cookie Secure when PUBLIC_URL is https", async () => {
    const secure = await createApp({ ...service.deps, publicUrl: "https://news.example.org" });
    const res = await secure.request("/admin/login", form({ email: "admin@staff.test", password }));
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  it("answers a wrong password and an unknown email with the same 401 page", async () => {
    const wrong = await app.request(
      "/admin/login",
      form({ email: "editor@staff.test", password: "not it at all" }),
    );
    const unknown = await app.request(
      "/admin/login",
      form({ email: "nobody@staff.test", password: "not it at all" }),
    );
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const text = (r: string) => r.replace(/value="[^"]*@staff.test"/, "");
    expect(text(await wrong.text())).toBe(text(await unknown.text()));
  });

  it("slows and then refuses 20 wrong passwords with 429, even when the 20th is right", async () => {
    await staffMember(db, "target@staff.test", "editor");
    const { statuses, times } = await guessesInTurn(
      db,
      Array.from(
        { length: 20 },
        (_, i) => () =>
          app.request("/admin/login", form({ email: "target@staff.test", password: `guess ${i}` })),
      ),
    );
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    expect(Math.max(...times.slice(5, 10))).toBeGreaterThan(Math.max(...times.slice(0, 3)) + 150);
    const right = await app.request("/admin/login", form({ email: "target@staff.test", password }));
    expect(right.status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();
  }, 60_000);

  it("refuses a login or setup form posted from Origin null or another site with 403, signing nobody in", async () => {
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
      app.request(path, {
        ...form(fields),
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      });
    const forged: Record<string, string>[] = [
      { Origin: "null" },
      { Origin: "https://evil.example" },
      { Referer: "https://evil.example/login.html" },
      // Origin wins over a Referer that looks right: a forging page controls neither, the browser both.
      { Origin: "null", Referer: "http://localhost/admin/login" },
    ];
    for (const headers of forged) {
      const res = await post("/admin/login", { email: "admin@staff.test", password }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.text()).toContain("this form did not come from this console");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    const { token } = await addStaff(db, cliActor, { email: "framed@staff.test", role: "editor" });
    const setup = await post(`/admin/setup/${token}`, { password, repeat: password }, { Origin: "null" });
    expect(setup.status).toBe(403);
    expect((await app.request(`/admin/setup/${token}`)).status).toBe(200);

    // Its own pages, and clients that send neither header (curl, scripts), still sign in.
    const genuine: Record<string, string>[] = [
      { Origin: "http://localhost" },
      { Referer: "http://localhost/admin/login" },
      {},
    ];
    for (const headers of genuine)
      expect(
        (await post("/admin/login", { email: "admin@staff.test", password }, headers)).status,
        JSON.stringify(headers),
      ).toBe(303);
  });

  it("takes a setup link once, refusing a short password and changing nothing for it", async () => {
    const { token } = await addStaff(db, cliActor, { email: "new@staff.test", role: "editor" });
    expect((await app.request(`/admin/setup/${token}`)).status).toBe(200);
    expect(
      (await app.request(`/admin/setup/${token}`, form({ password: "short", repeat: "short" }))).status,
    ).toBe(422);
    const set = await app.request(`/admin/setup/${token}`, form({ password, repeat: password }));
    expect(set.status).toBe(303);
    expect((await app.request(`/admin/setup/${token}`, form({ password, repeat: password }))).status).toBe(
      404,
    );
    expect((await app.request("/admin/setup/not-a-token")).status).toBe(404);
    await signIn(app, "new@staff.test");
  });
});

describe("every state-changing console route", () => {
  const routes = [
    "/admin/logout",
    "/admin/issues",
    "/admin/issues/preview",
    `/admin/issues/${issueId}/test`,
    `/admin/issues/${issueId}/send`,
    "/admin/sends/00000000-0000-4000-8000-000000000000/pause",
    "/admin/sends/00000000-0000-4000-8000-000000000000/resume",
    "/admin/sends/00000000-0000-4000-8000-000000000000/cancel",
    "/admin/sends/00000000-0000-4000-8000-000000000000/retry",
    "/admin/sends/00000000-0000-4000-8000-000000000000/move",
    "/admin/subscribers",
    "/admin/subscribers/unsubscribe",
    "/admin/subscribers/erase",
    "/admin/subscribers/import",
    "/admin/subscribers/import/confirm",
    "/admin/staff",
    "/admin/staff/role",
    "/admin/staff/remove",
    "/admin/account/password",
    "/admin/account/logout-everywhere",
  ];
  const fields = {
    markdown: issueSource,
    to: "someone@example.org",
    confirm: "5",
    email: "r1@readers.test",
    really: "yes",
    role: "editor",
    csv: "email\nnew@readers.test\n",
    current: password,
    password: "another long password",
  };

  it("refuses a request without the CSRF token with 403, and nothing changes", async () => {
    const before = await snapshot();
    for (const path of routes) {
      const res = await admin.post(path, fields, { csrf: false });
      expect(res.status, path).toBe(403);
      const wrong = await admin.post(path, { ...fields, csrf: "x".repeat(43) }, { csrf: false });
      expect(wrong.status, path).toBe(403);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a request without a session with 401, and nothing changes", async () => {
    const before = await snapshot();
    for (const path of routes) {
      const res = await app.request(path, form({ ...fields, csrf: admin.csrf }));
      expect(res.status, path).toBe(401);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("roles", () => {
  it("give an editor 403 on readers, bounces, staff, the audit log and the queues", async () => {
    for (const path of [
      "/admin/subscribers",
      "/admin/subscribers/export",
      "/admin/bounces",
      "/admin/staff",
      "/admin/audit",
      "/admin/queues",
    ])
      expect((await editor.get(path)).status, path).toBe(403);
    expect((await admin.get("/admin/subscribers")).status).toBe(200);
  });

  it("let an editor save drafts and preview, but not send to readers", async () => {
    const before = await count("sends");
    const res = await editor.post(`/admin/issues/${issueId}/send`, { confirm: "5" });
    expect(res.status).toBe(403);
    expect(await count("sends")).toBe(before);
    const page = await (await editor.get(`/admin/issues/${issueId}`)).text();
    expect(page).toContain("Only an admin can send to readers");
    expect((await editor.get(`/admin/issues/${issueId}/preview.html`)).status).toBe(200);
  });
});

describe("sending from the console", () => {
  it("sends nothing when the typed count is missing or different (422)", async () => {
    const before = await snapshot();
    const missing = await admin.post(`/admin/issues/${issueId}/send`, {});
    expect(missing.status).toBe(422);
    expect(await missing.text()).toContain("Nothing was sent");
    expect((await admin.post(`/admin/issues/${issueId}/send`, { confirm: "4" })).status).toBe(422);
    expect((await admin.post(`/admin/issues/${issueId}/send`, { confirm: "5 " + "0" })).status).toBe(422);
    expect(await snapshot()).toEqual(before);
  });

  it("schedules with the count typed, then moves and cancels the scheduled send", async () => {
    const page = await (await admin.get(`/admin/issues/${issueId}`)).text();
    expect(page).toContain('id="active-readers">5<');
    const res = await admin.post(`/admin/issues/${issueId}/send`, { confirm: "5", at: "2099-01-02T09:30" });
    expect(res.status).toBe(303);
    const sendId = res.headers.get("location")?.split("/").pop() ?? "";
    const [send] = await database.query<{ status: string; at: string }>(
      sql`select status, scheduled_at::text as at from sends where id = ${sendId}`,
    );
    expect(send).toEqual({ status: "scheduled", at: "2099-01-02 09:30:00+00" });
    const moved = await admin.post(`/admin/sends/${sendId}/move`, { at: "2099-02-03T10:00" });
    expect(moved.status).toBe(303);
    const rows = await database.query<{ id: string; status: string }>(
      sql`select id, status from sends where issue_id = ${issueId} and not is_test order by created_at`,
    );
    expect(rows.map((r) => r.status)).toEqual(["cancelled", "scheduled"]);
    expect((await admin.post(`/admin/sends/${rows[1]?.id}/cancel`)).status).toBe(303);
    const audit = await database.query<{ action: string }>(
      sql`select action from audit_log where action like 'send.%' order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual(["send.schedule", "send.move", "send.cancel"]);
  });

  it("streams the status JSON of a finished send as server-sent events and ends", async () => {
    const res = await admin.post(`/admin/issues/${issueId}/send`, { confirm: "5", again: "yes" });
    expect(res.status).toBe(303);
    const sendId = res.headers.get("location")?.split("/").pop() ?? "";
    expect((await admin.post(`/admin/sends/${sendId}/cancel`)).status).toBe(303);
    const events = await admin.get(`/admin/sends/${sendId}/events`);
    expect(events.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const body = await events.text();
    const data = body
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)));
    expect(data.at(-1)).toMatchObject({ sendId, status: "cancelled", skipped: 5, total: 5, ambiguous: 0 });
  });
});

describe("the issue editor", () => {
  it("answers lint errors with 422, the problems beside their lines, and stores nothing", async () => {
    const before = await count("issues");
    const broken = issueSource.replace(
      "## US and Japan exploring",
      "See [the plan](javascript:alert(1)).\n\n## US and Japan exploring",
    );
    const res = await editor.post("/admin/issues", { markdown: broken });
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(page).toMatch(/class="has-problem"/);
    expect(page).toMatch(/line \d+: error:/);
    expect(await count("issues")).toBe(before);
  });
});

describe("writing an issue", () => {
  it("takes an uploaded Markdown file instead of the text field and opens the issue page", async () => {
    const body = new FormData();
    body.append("csrf", editor.csrf);
    body.append("markdown", "");
    body.append("file", new File([issueSource.replace('volume: "2.6"', 'volume: "2.7"')], "vol-2-7.md"));
    const res = await app.request("/admin/issues", {
      method: "POST",
      headers: { cookie: editor.cookie },
      body,
    });
    expect(res.status).toBe(303);
    const page = await (await editor.get(res.headers.get("location") ?? "")).text();
    expect(page).toContain("Vol 2.7");
    expect(page).toContain("Download PDF");
  });

  it("starts from the last issue's Markdown", async () => {
    const page = await (await editor.get("/admin/issues/new?from=last")).text();
    expect(page).toContain("volume: &quot;2.7&quot;");
  });

  it("previews Markdown as JSON for the live editor with the X-CSRF-Token header, storing nothing", async () => {
    const before = await count("issues");
    const res = await app.request("/admin/issues/preview", {
      method: "POST",
      headers: {
        cookie: editor.cookie,
        "x-csrf-token": editor.csrf,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ markdown: issueSource }).toString(),
    });
    expect(res.status).toBe(200);
    const preview = (await res.json()) as { html: string; problems: unknown[] };
    expect(preview.html).toContain("reader@example.com");
    expect(preview.problems).toEqual([]);
    expect(await count("issues")).toBe(before);
  });

  it("offers the issue's PDF edition for download, drafts included", async () => {
    const res = await editor.get(`/admin/issues/${issueId}/issue.pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="[A-Za-z0-9.-]+\.pdf"$/);
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");
  });
});

describe("the console's own assets", () => {
  it("serves its stylesheet and the Japanese font without a session", async () => {
    const css = await app.request("/admin/static/console.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    for (const weight of ["400", "700"]) {
      const font = await app.request(`/admin/static/noto-sans-jp-${weight}.ttf`);
      expect(font.status).toBe(200);
      expect(font.headers.get("content-type")).toBe("font/ttf");
      expect((await font.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
  });
});

describe("a send's buttons given a body that cannot be read", () => {
  it("answer 400 with a message, never a 500 (found by the HTTP fuzzer: an empty multipart body)", async () => {
    const sendIn = async (status: string) =>
      (
        await database.query<{ id: string }>(
          sql`insert into sends (issue_id, status) values (${issueId}, ${status}) returning id`,
        )
      )[0]?.id;
    const paused = await sendIn("paused");
    const scheduled = await sendIn("scheduled");
    for (const [id, action] of [
      [paused, "pause"],
      [paused, "resume"],
      [paused, "cancel"],
      [paused, "retry"],
      [scheduled, "move"],
    ]) {
      const res = await app.request(`/admin/sends/${id}/${action}`, {
        method: "POST",
        headers: {
          cookie: admin.cookie,
          "x-csrf-token": admin.csrf,
          "content-type": "multipart/form-data; boundary=x",
        },
        body: "",
      });
      expect(res.status, action).toBe(400);
      expect(await res.text(), action).toContain("the form data cannot be read");
    }
  });
});

describe("the queue dashboard", () => {
  it("is behind the session for admins only, not the bearer token", async () => {
    expect(
      (
        await app.request("/admin/queues", {
          headers: { authorization: `Bearer ${service.deps.adminToken}` },
        })
      ).status,
    ).toBe(303);
    const res = await admin.get("/admin/queues");
    expect(res.status).toBe(200);
    const queues = await admin.get("/admin/queues/api/queues");
    expect(queues.status).toBe(200);
  });
});

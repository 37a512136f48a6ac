import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../src/db/schema.js";
import { readSession, sessionLimits } from "../../src/staff/sessions.js";
import { startService } from "../http/harness.js";
import { form, password, signIn, staffMember } from "./session.js";

/** Readers and staff managed from the console, through app.request() with real Postgres behind it. */
const service = await startService({ worker: false, sending: true });
const { app, database } = service;
const db = database.db;
await database.query(sql`insert into subscribers (email, name, status, consent_source)
  values ('known@readers.test', 'Known', 'active', 'admin'), ('leaving@readers.test', null, 'active', 'admin')`);
await staffMember(db, "boss@staff.test", "admin");
const admin = await signIn(app, "boss@staff.test");

const statusOf = async (email: string) =>
  (await database.query<{ status: string }>(sql`select status from subscribers where email = ${email}`))[0]
    ?.status;
const multipart = (fields: Record<string, string | File>) => {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  return body;
};

describe("readers in the console", () => {
  it("reads a Mailchimp-style export (semicolons, BOM, Email Address, First + Last Name) as the import does", async () => {
    const csv = "\uFEFFEmail Address;First Name;Last Name\nmc1@readers.test;Ada;Lovelace\n";
    const res = await app.request("/admin/subscribers/import", {
      method: "POST",
      headers: { cookie: admin.cookie },
      body: multipart({ csrf: admin.csrf, file: new File([csv], "mailchimp.csv", { type: "text/csv" }) }),
    });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toMatch(/<dt>Valid<\/dt><dd>1<\/dd>/);
    expect(page).toContain("Ada Lovelace");
    expect(page).toContain("/admin/subscribers/import/confirm");
    expect(await statusOf("mc1@readers.test")).toBeUndefined();
  });

  it("previews a CSV import with the first rows and the validation result, writing nothing", async () => {
    const csv =
      "email,name\nnew1@readers.test,Nu\nnot-an-address,Bad\nknown@readers.test,Again\nnew1@readers.test,Twice\n";
    const before = await database.query(sql`select 1 from subscribers`);
    const res = await app.request("/admin/subscribers/import", {
      method: "POST",
      headers: { cookie: admin.cookie },
      body: multipart({ csrf: admin.csrf, file: new File([csv], "readers.csv", { type: "text/csv" }) }),
    });
    expect(res.status).toBe(200);
    const page = await res.text();
    for (const [label, n] of [
      ["Rows", 4],
      ["Valid", 2],
      ["Already known", 1],
      ["Invalid", 1],
      ["Repeated", 1],
    ])
      expect(page).toMatch(new RegExp(`<dt>${label}</dt><dd>${n}</dd>`));
    expect(page).toContain("not-an-address");
    expect(await database.query(sql`select 1 from subscribers`)).toHaveLength(before.length);

    // A file with an invalid row is not offered for import, and a forced confirm imports nothing.
    expect(page).toContain("Nothing is imported while any row is invalid");
    expect(page).not.toContain("/admin/subscribers/import/confirm");
    const refused = await admin.post("/admin/subscribers/import/confirm", { csv });
    expect(refused.status).toBe(422);
    expect(await statusOf("new1@readers.test")).toBeUndefined();

    const fixed = csv.replace("not-an-address,Bad\n", "");
    const confirm = await admin.post("/admin/subscribers/import/confirm", { csv: fixed });
    expect(confirm.status).toBe(303);
    expect(await statusOf("new1@readers.test")).toBe("active");
    expect(await statusOf("known@readers.test")).toBe("active");
  });

  it("asks a second time before erasing, and then keeps only a hash, also in the audit log", async () => {
    await admin.post("/admin/subscribers/unsubscribe", { email: "leaving@readers.test" });
    expect(await statusOf("leaving@readers.test")).toBe("unsubscribed");
    const ask = await admin.post("/admin/subscribers/erase", { email: "leaving@readers.test" });
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain("Yes, erase for good");
    expect(await statusOf("leaving@readers.test")).toBe("unsubscribed");
    const erase = await admin.post("/admin/subscribers/erase", {
      email: "leaving@readers.test",
      really: "yes",
    });
    expect(erase.status).toBe(303);
    expect(await statusOf("leaving@readers.test")).toBeUndefined();
    const audit = await database.query<{ target: string | null }>(sql`select target from audit_log`);
    expect(audit.some((a) => a.target?.includes("leaving@"))).toBe(false);
    expect(audit.filter((a) => a.target?.startsWith("erased:"))).toHaveLength(2);
  });

  it("adds a reader, refuses a malformed address with 422, and exports CSV", async () => {
    expect(
      (await admin.post("/admin/subscribers", { email: "added@readers.test", confirmed: "yes" })).status,
    ).toBe(303);
    expect(await statusOf("added@readers.test")).toBe("active");
    expect((await admin.post("/admin/subscribers", { email: "no at sign" })).status).toBe(422);
    const csv = await (await admin.get("/admin/subscribers/export")).text();
    expect(csv.split("\n")[0]).toMatch(/^email,name,status/);
    expect(csv).toContain("added@readers.test");
  });
});

describe("staff in the console", () => {
  it("lets an admin add an editor with a setup link, promote them, and remove them", async () => {
    const res = await admin.post("/admin/staff", { email: "helper@staff.test", role: "editor" });
    expect(res.status).toBe(201);
    const link = (await res.text()).match(/http:\/\/localhost:3000\/admin\/setup\/[A-Za-z0-9_-]{43}/)?.[0];
    expect(link).toBeDefined();
    const token = link?.split("/").pop() ?? "";
    expect((await app.request(`/admin/setup/${token}`, form({ password, repeat: password }))).status).toBe(
      303,
    );
    const helper = await signIn(app, "helper@staff.test");
    expect((await helper.get("/admin/staff")).status).toBe(403);
    expect(
      (await admin.post("/admin/staff/role", { email: "helper@staff.test", role: "admin" })).status,
    ).toBe(303);
    expect((await helper.get("/admin/staff")).status).toBe(200);
    expect((await admin.post("/admin/staff/remove", { email: "helper@staff.test" })).status).toBe(303);
    expect((await helper.get("/admin")).status).toBe(303);
  });

  it("never leaves the console without an admin", async () => {
    const res = await admin.post("/admin/staff/role", { email: "boss@staff.test", role: "editor" });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("last admin");
  });

  it("changes one's own password only with the current one", async () => {
    await staffMember(db, "writer@staff.test", "editor");
    const writer = await signIn(app, "writer@staff.test");
    const wrong = await writer.post("/admin/account/password", {
      current: "nope",
      password: "a brand new passphrase",
    });
    expect(wrong.status).toBe(422);
    const right = await writer.post("/admin/account/password", {
      current: password,
      password: "a brand new passphrase",
    });
    expect(right.status).toBe(303);
    expect((await app.request("/admin/login", form({ email: "writer@staff.test", password }))).status).toBe(
      401,
    );
    await signIn(app, "writer@staff.test", "a brand new passphrase");
  });

  it("ends the account's other sessions when its password changes, and keeps the one that changed it", async () => {
    await staffMember(db, "changer@staff.test", "editor");
    const laptop = await signIn(app, "changer@staff.test");
    const phone = await signIn(app, "changer@staff.test");
    const other = await signIn(app, "writer@staff.test", "a brand new passphrase");
    expect((await phone.get("/admin")).status).toBe(200);
    const changed = await laptop.post("/admin/account/password", {
      current: password,
      password: "another fresh passphrase",
    });
    expect(changed.status).toBe(303);
    expect((await phone.get("/admin")).status).toBe(303);
    expect((await phone.post("/admin/account/logout-everywhere")).status).toBe(401);
    expect((await laptop.get("/admin")).status).toBe(200);
    expect((await laptop.get("/admin/account?done=password")).status).toBe(200);
    expect((await other.get("/admin")).status).toBe(200);
  });

  it("ends every session of the account when an admin issues a fresh setup link (the reset)", async () => {
    await staffMember(db, "stolen@staff.test", "editor");
    const laptop = await signIn(app, "stolen@staff.test");
    const phone = await signIn(app, "stolen@staff.test");
    expect((await phone.get("/admin")).status).toBe(200);
    const res = await admin.post("/admin/staff", { email: "stolen@staff.test", role: "editor" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("every session of this account is signed out");
    expect((await laptop.get("/admin")).status).toBe(303);
    expect((await phone.get("/admin")).status).toBe(303);
    expect((await phone.post("/admin/account/logout-everywhere")).status).toBe(401);
    expect((await admin.get("/admin")).status).toBe(200);
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "staff.setup-link"), eq(auditLog.target, "stolen@staff.test")));
    expect(entry?.detail).toMatchObject({ sessionsEnded: 2, passwordCleared: true });
  });

  it("stops the old password at once when an admin issues a fresh setup link (the reset), and the link sets the new one", async () => {
    await staffMember(db, "forgetful@staff.test", "editor");
    const laptop = await signIn(app, "forgetful@staff.test");
    const res = await admin.post("/admin/staff", { email: "forgetful@staff.test", role: "editor" });
    expect(res.status).toBe(200);
    const token = (await res.text()).match(/\/admin\/setup\/([A-Za-z0-9_-]{43})/)?.[1] ?? "";
    // A lost laptop's saved password signs nobody back in between the reset and the link's use.
    await expect(signIn(app, "forgetful@staff.test")).rejects.toThrow("got 401");
    expect((await laptop.get("/admin")).status).toBe(303);
    const set = await app.request(
      `/admin/setup/${token}`,
      form({ password: "reset passphrase here", repeat: "reset passphrase here" }),
    );
    expect(set.status).toBe(303);
    await expect(signIn(app, "forgetful@staff.test")).rejects.toThrow("got 401");
    expect((await admin.get("/admin")).status).toBe(200);
    await signIn(app, "forgetful@staff.test", "reset passphrase here");
  });

  it("signs out everywhere: every session of the account stops working", async () => {
    await staffMember(db, "roamer@staff.test", "editor");
    const laptop = await signIn(app, "roamer@staff.test");
    const phone = await signIn(app, "roamer@staff.test");
    expect((await phone.get("/admin")).status).toBe(200);
    expect((await laptop.post("/admin/account/logout-everywhere")).status).toBe(303);
    expect((await phone.get("/admin")).status).toBe(303);
    expect((await laptop.get("/admin")).status).toBe(303);
  });

  it("ends a session after the idle timeout and after its absolute lifetime", async () => {
    const s = await signIn(app, "boss@staff.test");
    const id = s.cookie.split("=")[1] ?? "";
    const now = Date.now();
    const idle = new Date(now + (sessionLimits.idleMinutes + 1) * 60_000);
    expect(await readSession(db, id, new Date(now + 60_000))).toBeDefined();
    expect(await readSession(db, id, idle)).toBeUndefined();
    // Kept busy, it still ends at its absolute lifetime.
    let at = now;
    const end = now + sessionLimits.lifetimeHours * 3600_000;
    while (at + sessionLimits.idleMinutes * 30_000 < end) {
      at += sessionLimits.idleMinutes * 30_000;
      expect(await readSession(db, id, new Date(at))).toBeDefined();
    }
    expect(await readSession(db, id, new Date(end + 1000))).toBeUndefined();
  });
});

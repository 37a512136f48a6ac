import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import { createTestDatabase } from "../helpers/db.js";
import { secret } from "../sending/harness.js";
import { trackingApp } from "./app.js";

const database = await createTestDatabase();
let manage: string;
let readerId: string;

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});
const trackingOf = async () =>
  (
    await database.query<{ tracking: boolean }>(sql`select tracking from subscribers where id = ${readerId}`)
  )[0]!.tracking;

beforeAll(async () => {
  const [row] = await database.query<{ id: string }>(
    sql`insert into subscribers (email, status, consent_source) values ('reader@readers.test', 'active', 'admin') returning id`,
  );
  readerId = row!.id;
  manage = `/manage/${signSubscriberToken(secret, "manage", readerId)}`;
});

describe("the manage page, while the install tracks clicks or opens", () => {
  it("says what is recorded and for how long, with a button to turn it off", async () => {
    const { app } = await trackingApp(database);
    const page = await (await app.request(manage)).text();
    expect(page).toContain("Reading statistics");
    expect(page).toMatch(
      /we record the time, your network address and your browser&#39;s name.*deleted after 90 days/,
    );
    expect(page).toContain('name="tracking" value="off"');
  });

  it("turns tracking off for the reader, and on again, with a POST to the same path", async () => {
    const { app } = await trackingApp(database);
    const off = await app.request(manage, form({ action: "tracking", tracking: "off" }));
    expect(off.status).toBe(200);
    expect(await trackingOf()).toBe(false);
    const page = await off.text();
    expect(page).toContain("your links are plain and nothing is recorded");
    expect(page).toContain('name="tracking" value="on"');
    expect(await (await app.request(manage, form({ action: "tracking", tracking: "on" }))).text()).toContain(
      'name="tracking" value="off"',
    );
    expect(await trackingOf()).toBe(true);
  });

  it("refuses a value other than on or off, changing nothing", async () => {
    const { app } = await trackingApp(database);
    expect((await app.request(manage, form({ action: "tracking", tracking: "maybe" }))).status).toBe(400);
    expect(await trackingOf()).toBe(true);
  });

  it("does nothing on GET: a link scanner cannot turn it off", async () => {
    const { app } = await trackingApp(database);
    await app.request(`${manage}?action=tracking&tracking=off`);
    expect(await trackingOf()).toBe(true);
  });
});

describe("the manage page, while tracking is off for the install", () => {
  it("does not mention tracking", async () => {
    const { app } = await trackingApp(database, { clicks: false, opens: false });
    const page = await (await app.request(manage)).text();
    expect(page).not.toContain("Reading statistics");
    expect(page).not.toContain('name="tracking"');
  });

  it("names only opens when only opens are tracked", async () => {
    const { app } = await trackingApp(database, { clicks: false, opens: true });
    const page = await (await app.request(manage)).text();
    expect(page).toContain("When you open our mail, we record");
  });
});

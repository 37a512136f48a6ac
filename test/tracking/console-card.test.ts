import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { signIn, staffMember } from "../console/session.js";
import { startService } from "../http/harness.js";
import { mimecast, record, seedSend } from "./factories.js";

/** When the send page carries the Readership card (the browser test looks at it). */
const service = await startService({ worker: false });
const { database } = service;
await staffMember(database.db, "chief@staff.test", "admin");
const appWith = async (tracking?: { clicks: boolean; opens: boolean }) => {
  const app = await createApp({ ...service.deps, ...(tracking ? { tracking } : {}) });
  return signIn(app, "chief@staff.test");
};

describe("the Readership card on the console's send page", () => {
  it("is there for a tracked send, with people per story and the plot", async () => {
    const send = await seedSend(database, { readers: 5, sentAt: new Date(Date.now() - 86_400_000) });
    const [a = 0, b = 0] = send.deliveries;
    await record(database, send, [
      { delivery: a, linkNo: 2, after: 3600 },
      { delivery: b, linkNo: 2, after: 1, userAgent: mimecast },
    ]);
    const html = await (await (await appWith()).get(`/admin/sends/${send.sendId}`)).text();
    expect(html).toContain('id="readership"');
    expect(html).toMatch(/Housing: what changed<\/td><td class="num"[^>]*>1 <span/);
    expect(html).toContain('<svg class="plot"');
    expect(html).toContain('<table class="visually-hidden">');
  });

  it("is absent for an untracked send while this install does not track", async () => {
    const send = await seedSend(database, { readers: 2, sentAt: new Date(), links: false });
    const html = await (await (await appWith()).get(`/admin/sends/${send.sendId}`)).text();
    expect(html).not.toContain('id="readership"');
  });

  it("says an untracked send went out without tracking once the install tracks", async () => {
    const send = await seedSend(database, { readers: 2, sentAt: new Date(), links: false });
    const html = await (
      await (await appWith({ clicks: true, opens: false })).get(`/admin/sends/${send.sendId}`)
    ).text();
    expect(html).toContain('id="untracked"');
  });

  it("escapes a headline that carries markup", async () => {
    const send = await seedSend(database, { readers: 2, sentAt: new Date() });
    await database.query(
      sql`update send_links set headline = '<img src=x onerror=alert(1)>' where send_id = ${send.sendId} and link_no = 1`,
    );
    const html = await (await (await appWith()).get(`/admin/sends/${send.sendId}`)).text();
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("<img src=x");
  });
});

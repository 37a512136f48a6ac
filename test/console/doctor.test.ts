import { afterAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/doctor/run.js";
import { createApp } from "../../src/http/app.js";
import { startInstall } from "../doctor/install.js";
import { startService } from "../http/harness.js";
import { signIn, staffMember } from "./session.js";

/** The console shows admins the `digest doctor` checklist on demand; editors never see it. */
const install = await startInstall();
afterAll(() => install.close());
const service = await startService({ worker: false });
let runs = 0;
const app = await createApp({
  ...service.deps,
  doctor: () => {
    runs++;
    return runDoctor(install.inputs());
  },
});
await staffMember(service.database.db, "admin@staff.test", "admin");
await staffMember(service.database.db, "editor@staff.test", "editor");
const admin = await signIn(app, "admin@staff.test");
const editor = await signIn(app, "editor@staff.test");

describe("the doctor in the console", () => {
  it("an admin's overview links to the checks without running them", async () => {
    const page = await (await admin.get("/admin")).text();
    expect(page).toContain("Will mail be accepted?");
    expect(page).toContain('href="/admin/doctor"');
    expect(runs).toBe(0);
  });

  it("an admin sees the checklist with each check's status and the record to publish", async () => {
    delete install.dns.zone.txt?.["digest._domainkey.example.org"];
    const res = await admin.get("/admin/doctor");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(runs).toBe(1);
    for (const id of [
      "spf",
      "dkim",
      "dmarc",
      "alignment",
      "mx",
      "relay",
      "relay-starttls",
      "relay-auth",
      "public-url",
    ])
      expect(page).toContain(`data-check="${id}"`);
    expect(page).toContain("no DKIM key is published at digest._domainkey.example.org");
    expect(page).toContain(`v=DKIM1; k=rsa; p=${install.publicKey}`);
    expect(page).toContain("1 problem to fix before mail will be accepted");
    install.dns.zone = install.rightZone();
  });

  it("an editor sees no link on the overview and is refused the checklist", async () => {
    const overview = await (await editor.get("/admin")).text();
    expect(overview).not.toContain("/admin/doctor");
    expect(overview).not.toContain("Will mail be accepted?");
    const before = runs;
    const res = await editor.get("/admin/doctor");
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(body).not.toContain("DKIM");
    expect(runs).toBe(before);
  });
});

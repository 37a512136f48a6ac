import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscribers } from "../../src/db/schema.js";
import { createApp } from "../../src/http/app.js";
import { form, linkIn, parsed, startService } from "./harness.js";

/** LANGUAGES=en,ja: the reader's language, chosen at subscribe and changed on the manage page. */
const service = await startService({ languages: ["en", "ja"] });
const { app, database, smtp } = service;
const db = database.db;

const rowOf = async (email: string) =>
  (await db.select().from(subscribers).where(eq(subscribers.email, email)))[0];
const path = (url: string) => new URL(url).pathname;
const japanese = { "Accept-Language": "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7" };

/** The n-th mail (0-based) to an address, once it arrives. */
async function mailTo(address: string, n = 0) {
  const matching = () => smtp.messages.filter((m) => m.to.includes(address));
  await expect.poll(() => matching().length, { timeout: 15_000 }).toBeGreaterThan(n);
  return parsed(matching()[n]!);
}

function subscribeAs(email: string, headers: Record<string, string>, fields: Record<string, string> = {}) {
  const request = form({ email, ...fields });
  return app.request("/subscribe", { ...request, headers: { ...request.headers, ...headers } });
}

describe("a reader's language", () => {
  it("is the browser's at subscribe, and the confirmation mail and pages are in it", async () => {
    const res = await subscribeAs("hanako@readers.test", japanese);
    expect(res.status).toBe(202);
    const answer = await res.text();
    expect(answer).toContain('<html lang="ja">');
    expect(answer).toContain("受信トレイをご確認ください");
    expect((await rowOf("hanako@readers.test"))?.language).toBe("ja");

    const mail = await mailTo("hanako@readers.test");
    expect(mail.subject).toBe("「US-Japan Alliance Digest」購読のご確認");
    expect(mail.headers.get("content-language")).toBe("ja");
    expect(String(mail.html)).toMatch(/<html[^>]* lang="ja"/);
    expect(mail.text).toContain("ウェブサイトのフォームから、このアドレスへの");
    expect(mail.text).not.toMatch(/Confirm|subscription/);

    const confirmPath = path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/"));
    const page = await (await app.request(confirmPath)).text();
    expect(page).toContain('<html lang="ja">');
    expect(page).toContain("購読を確定する</button>");
    const done = await (await app.request(confirmPath, { method: "POST" })).text();
    expect(done).toContain("<h1>購読が確定しました</h1>");

    const welcome = await mailTo("hanako@readers.test", 1);
    expect(welcome.subject).toBe("「US-Japan Alliance Digest」へようこそ");
    expect(welcome.text).toContain("購読の設定");
  });

  it("is the form's choice over the browser's", async () => {
    expect((await subscribeAs("kenji@readers.test", japanese, { language: "en" })).status).toBe(202);
    expect((await rowOf("kenji@readers.test"))?.language).toBe("en");
    const mail = await mailTo("kenji@readers.test");
    expect(mail.subject).toMatch(/^Confirm your subscription/);
    expect(mail.headers.get("content-language")).toBe("en");
  });

  it("is the first configured when the browser asks for none of them, and a language not configured is never stored", async () => {
    await subscribeAs("pierre@readers.test", { "Accept-Language": "fr-FR, de;q=0.5" }, { language: "fr" });
    expect((await rowOf("pierre@readers.test"))?.language).toBe("en");
  });

  it("changes on the manage page, and the next mail is in the new language", async () => {
    await subscribeAs("yuki@readers.test", japanese);
    const confirmation = await mailTo("yuki@readers.test");
    await app.request(path(linkIn(confirmation.text ?? "", "http://localhost:3000/confirm/")), {
      method: "POST",
    });
    const welcome = await mailTo("yuki@readers.test", 1);
    const managePath = path(linkIn(welcome.text ?? "", "http://localhost:3000/manage/"));

    const manage = await (await app.request(managePath)).text();
    expect(manage).toContain('<html lang="ja">');
    expect(manage).toContain('<option value="en" lang="en">English</option>');
    expect(manage).toContain('<option value="ja" lang="ja" selected>日本語</option>');

    const refused = await app.request(managePath, form({ action: "language", language: "fr" }));
    expect(refused.status).toBe(400);
    expect((await rowOf("yuki@readers.test"))?.language).toBe("ja");

    const changed = await app.request(managePath, form({ action: "language", language: "en" }));
    expect(changed.status).toBe(200);
    const page = await changed.text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain("Your language is saved");
    expect((await rowOf("yuki@readers.test"))?.language).toBe("en");

    await app.request(managePath, form({ action: "unsubscribe" }));
    const goodbye = await mailTo("yuki@readers.test", 2);
    expect(goodbye.subject).toBe("You are unsubscribed from US-Japan Alliance Digest");
    expect(goodbye.headers.get("content-language")).toBe("en");
    expect(String(goodbye.html)).toMatch(/<html[^>]* lang="en"/);
  });

  it("shows the unsubscribe page in the reader's language", async () => {
    await subscribeAs("mei@readers.test", japanese);
    const mail = await mailTo("mei@readers.test");
    const confirmPath = path(linkIn(mail.text ?? "", "http://localhost:3000/confirm/"));
    await app.request(confirmPath, { method: "POST" });
    const welcome = await mailTo("mei@readers.test", 1);
    const unsubscribePath = path(linkIn(welcome.text ?? "", "http://localhost:3000/unsubscribe/"));
    const page = await (await app.request(unsubscribePath)).text();
    expect(page).toContain('<html lang="ja">');
    expect(page).toContain("配信を停止する</button>");
    const done = await (await app.request(unsubscribePath, form({ "List-Unsubscribe": "One-Click" }))).text();
    expect(done).toContain("<h1>配信を停止しました</h1>");
  });
});

describe("pages about nobody in particular", () => {
  it("follow the browser's language, and offer the choice on the subscribe form", async () => {
    const home = await app.request("/", { headers: japanese });
    expect(home.headers.get("vary")).toContain("Accept-Language");
    const html = await home.text();
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain("購読を申し込む</button>");
    expect(html).toContain('<select id="language" name="language">');
    expect(await (await app.request("/")).text()).toContain('<html lang="en">');
  });

  it("offer no choice when only one language is configured", async () => {
    const englishOnly = await createApp({ ...service.deps, languages: undefined });
    const html = await (await englishOnly.request("/", { headers: japanese })).text();
    expect(html).toContain('<html lang="en">');
    expect(html).not.toContain("<select");
  });

  it("answer errors in the browser's language: a missing page, a broken link, bad input", async () => {
    const missing = await app.request("/no/such/page", { headers: japanese });
    expect(missing.status).toBe(404);
    const text = await missing.text();
    expect(text).toContain('<html lang="ja">');
    expect(text).toContain("ページが見つかりません");

    const broken = await app.request("/manage/not-a-token", { headers: japanese });
    expect(broken.status).toBe(400);
    const link = await broken.text();
    expect(link).toContain('<html lang="ja">');
    expect(link).toContain("このリンクは無効です");

    const bad = await subscribeAs("not an address", japanese);
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toContain("入力内容をご確認のうえ");
    expect(page).toMatch(/詳細：<span lang="en">[^<]+<\/span>/);
  });
});

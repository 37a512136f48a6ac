import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { linkIn, parsed } from "../http/harness.js";
import { openSite } from "./site.js";

/**
 * LANGUAGES=en,ja, a reader whose browser asks for Japanese, on a phone-sized screen (390 px):
 * Japanese pages and mail from the form to the manage page, then English after they switch.
 * Screenshots of the Japanese pages go to /tmp/shots/i18n/ for a person to look at.
 */
const shots = "/tmp/shots/i18n";
mkdirSync(shots, { recursive: true });
const { base, service, browser } = await openSite({ languages: ["en", "ja"] });

/** The n-th mail (0-based) to an address, parsed, once it arrives. */
async function mailTo(address: string, n: number) {
  const matching = () => service.smtp.messages.filter((m) => m.to.includes(address));
  await expect.poll(() => matching().length, { timeout: 15_000 }).toBeGreaterThan(n);
  return parsed(matching()[n]!);
}

/** Nothing wider than the screen: no sideways scrolling, no element sticking out. */
async function fitsTheScreen(page: Page) {
  // A string, run in the page: this project's types know no DOM.
  return page.evaluate<{ scroll: boolean; wide: string[] }>(`(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > width + 1);
    return { scroll: document.documentElement.scrollWidth <= width, wide: wide.map((e) => e.tagName) };
  })()`);
}

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  expect(await fitsTheScreen(page), name).toEqual({ scroll: true, wide: [] });
}

describe("a reader with a Japanese browser", () => {
  it("subscribes, confirms and manages in Japanese, switches to English, and the next mail is English", async () => {
    const context = await browser.newContext({
      locale: "ja-JP",
      extraHTTPHeaders: { "Accept-Language": "ja" },
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    const email = "hanako.yamada@example.go.jp";

    await page.goto(`${base}/`);
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    expect(await page.textContent("button[type=submit]")).toBe("購読を申し込む");
    expect(await page.inputValue("#language")).toBe("ja");
    await shoot(page, "1-home");
    await page.fill("#email", email);
    await page.fill("#name", "山田 花子");
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("h1")).toBe("受信トレイをご確認ください");
    await shoot(page, "2-check-inbox");

    const confirmation = await mailTo(email, 0);
    expect(confirmation.subject).toBe("「US-Japan Alliance Digest」購読のご確認");
    expect(confirmation.headers.get("content-language")).toBe("ja");
    expect(confirmation.text).toContain("下のボタンから購読をご確認ください");
    const mailPage = await context.newPage();
    await mailPage.setContent(String(confirmation.html));
    expect(await mailPage.getAttribute("html", "lang")).toBe("ja");
    await shoot(mailPage, "3-confirmation-mail");

    // The link's page presses its own button once shown (SPEC §4).
    await page.goto(linkIn(confirmation.text ?? "", `${base}/confirm/`));
    await page.locator("h1", { hasText: "購読が確定しました" }).waitFor();
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    expect(await page.textContent("main p")).toContain("ご登録ありがとうございます");
    await shoot(page, "4-confirmed");

    const welcome = await mailTo(email, 1);
    expect(welcome.subject).toBe("「US-Japan Alliance Digest」へようこそ");
    expect(welcome.text).toContain("山田 花子 様、ようこそ。");
    await mailPage.setContent(String(welcome.html));
    await shoot(mailPage, "5-welcome-mail");

    await page.goto(linkIn(welcome.text ?? "", `${base}/unsubscribe/`));
    expect(await page.textContent("h1")).toBe("配信停止");
    await shoot(page, "6-unsubscribe");
    await page.goto(`${base}/no-such-page`);
    expect(await page.textContent("h1")).toBe("処理できませんでした");
    await shoot(page, "7-not-found");

    await page.goto(linkIn(welcome.text ?? "", `${base}/manage/`));
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    expect(await page.textContent("main")).toContain("購読中");
    await shoot(page, "8-manage");
    await page.selectOption("#language", "en");
    await page.click("form:has(#language) button[type=submit]");
    await expect.poll(() => page.getAttribute("html", "lang")).toBe("en");
    expect(await page.textContent("[role=status]")).toContain("Your language is saved");
    expect(await page.textContent("h1")).toBe("Your subscription");

    await page.click("form:has(input[value=unsubscribe]) button[type=submit]");
    expect(await page.textContent("[role=status]")).toContain("You are unsubscribed.");
    const goodbye = await mailTo(email, 2);
    expect(goodbye.subject).toBe("You are unsubscribed from US-Japan Alliance Digest");
    expect(goodbye.headers.get("content-language")).toBe("en");
    expect(goodbye.text).toContain("You will receive no more issues");
    await mailPage.setContent(String(goodbye.html));
    expect(await mailPage.getAttribute("html", "lang")).toBe("en");
    await context.close();
  });
});

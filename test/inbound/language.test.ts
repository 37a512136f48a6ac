import { sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identity } from "../sending/harness.js";
import { type InboundService, startInboundService } from "./harness.js";

/** A mailed `subscribe` with LANGUAGES=ja,en: the writer's language from the message itself. */
let service: InboundService;
const domain = identity.domain;

beforeAll(async () => {
  service = await startInboundService("inbound-lang", { settings: { languages: ["ja", "en"] } });
});

afterAll(async () => {
  await service?.close();
});

async function languageOf(email: string): Promise<string | null | undefined> {
  const [row] = await service.database.query<{ language: string | null }>(
    sql`select language from subscribers where email = ${email}`,
  );
  return row?.language;
}

async function confirmationTo(email: string) {
  await expect
    .poll(() => service.outbox.messages.some((m) => m.to.includes(email)), { timeout: 15_000 })
    .toBe(true);
  return simpleParser(service.outbox.messages.find((m) => m.to.includes(email))!.raw);
}

describe("a subscribe by mail", () => {
  it("takes the language its Content-Language names", async () => {
    await service.client().sendMail({
      from: "sato@readers.test",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "Please add me.",
      headers: { "Content-Language": "en-GB" },
    });
    expect(await languageOf("sato@readers.test")).toBe("en");
    expect((await confirmationTo("sato@readers.test")).subject).toMatch(/^Confirm your subscription/);
  });

  it("takes the language of its body's script when its headers name none", async () => {
    await service.client().sendMail({
      from: "smith@readers.test",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "subscribe\n\nI would like to receive the digest, please.",
    });
    expect(await languageOf("smith@readers.test")).toBe("en");
  });

  it("is Japanese when written in Japanese, and its confirmation mail is too", async () => {
    await service.client().sendMail({
      from: "tanaka@readers.test",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "購読を希望します。よろしくお願いいたします。",
    });
    expect(await languageOf("tanaka@readers.test")).toBe("ja");
    const mail = await confirmationTo("tanaka@readers.test");
    expect(mail.subject).toBe("「US-Japan Alliance Digest」購読のご確認");
    // The plain text is wrapped at 78 columns, at a space: the name may break across lines.
    expect((mail.text ?? "").replace(/\s+/g, " ")).toContain(
      "メールで、このアドレスへの「US-Japan Alliance Digest」の配信",
    );
  });

  it("falls back to the first configured language when the message says nothing", async () => {
    await service.client().sendMail({
      from: "blank@readers.test",
      to: `subscribe@${domain}`,
      subject: "subscribe",
      text: "",
      headers: { "Content-Language": "fr" },
    });
    expect(await languageOf("blank@readers.test")).toBe("ja");
  });
});

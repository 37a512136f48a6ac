import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { placeholders } from "../../src/issues/personalize.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import {
  buildTemplate,
  messageBuffers,
  type ReaderParts,
  spliceMessage,
} from "../../src/sending/template.js";

const identity = resolveIdentity(
  { publicUrl: "https://news.example.org", mailDomain: "example.org" },
  loadNewsletter(join(import.meta.dirname, "../../newsletter.yaml")),
);
const template = await buildTemplate({
  identity,
  subject: "Vol 1",
  date: new Date("2026-01-01T00:00:00Z"),
  rendition: {
    html: `<p>For ${placeholders.email}: <a href="${placeholders.unsubscribeUrl}">unsubscribe</a></p>`,
    text: `For ${placeholders.email}. Unsubscribe: ${placeholders.unsubscribeUrl}\n`,
  },
});

const reader = (n: number): ReaderParts => ({
  email: `reader${n}@example.net`,
  unsubscribeUrl: `https://news.example.org/unsubscribe/token${n}`,
  manageUrl: `https://news.example.org/manage/token${n}`,
  viewUrl: "https://news.example.org/archive/vol-1",
  unsubscribeMailto: `mailto:unsubscribe+token${n}@example.org?subject=unsubscribe`,
  messageId: `<send.${n}@example.org>`,
});

describe("message buffers reused across readers", () => {
  it("a spliced message is byte for byte the same with or without reused buffers", () => {
    const buffers = messageBuffers();
    for (let n = 0; n < 5; n++) {
      const reused = spliceMessage(template, reader(n), buffers);
      expect(reused.equals(spliceMessage(template, reader(n)))).toBe(true);
      buffers.give(reused);
    }
  });

  it("a buffer still out with a message is never handed to another reader", () => {
    const buffers = messageBuffers();
    const first = spliceMessage(template, reader(1), buffers);
    const copy = Buffer.from(first);
    const second = spliceMessage(template, reader(2), buffers);
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.equals(copy)).toBe(true);
  });

  it("a buffer given back is written over by the next reader, with that reader's bytes only", () => {
    const buffers = messageBuffers();
    const long = spliceMessage(
      template,
      { ...reader(1), email: "a-much-longer-address@example.net" },
      buffers,
    );
    buffers.give(long);
    const next = spliceMessage(template, reader(2), buffers);
    expect(next.buffer).toBe(long.buffer);
    expect(next.equals(spliceMessage(template, reader(2)))).toBe(true);
    expect(next.toString("latin1")).not.toContain("a-much-longer-address");
  });

  it("a buffer given back twice goes to one reader only", () => {
    const buffers = messageBuffers();
    const message = spliceMessage(template, reader(1), buffers);
    buffers.give(message);
    buffers.give(message);
    const a = spliceMessage(template, reader(2), buffers);
    const b = spliceMessage(template, reader(3), buffers);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it("a buffer the pool did not lend is never taken in", () => {
    const buffers = messageBuffers();
    const foreign = Buffer.allocUnsafeSlow(64 * 1024);
    buffers.give(foreign);
    expect(spliceMessage(template, reader(1), buffers).buffer).not.toBe(foreign.buffer);
  });
});

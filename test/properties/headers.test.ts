import { readFileSync } from "node:fs";
import { domainToASCII } from "node:url";
import fc from "fast-check";
import { type ParsedMail, simpleParser } from "mailparser";
import { beforeAll, describe, expect, it } from "vitest";
import { checkIssue } from "../../src/issues/lint.js";
import type { Rendition } from "../../src/issues/render.js";
import { renderTransactional } from "../../src/issues/transactional-content.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { listId, type MailIdentity, resolveIdentity } from "../../src/sending/identity.js";
import { messageId, readerLinks } from "../../src/sending/reader-links.js";
import {
  buildTemplate,
  type MessageTemplate,
  prepared,
  type ReaderParts,
  splice,
  spliceMessage,
} from "../../src/sending/template.js";
import { composeTransactional } from "../../src/sending/transactional-mail.js";
import { normaliseAddress, normaliseName } from "../../src/subscribers/address.js";
import { hostileAddress, hostileText, injections } from "./arbitraries.js";

const newsletter = loadNewsletter("newsletter.yaml");
const identity = resolveIdentity(
  { publicUrl: "https://news.example.org", mailDomain: "example.org" },
  newsletter,
);
const secret = "property-secret-0123456789-0123456789abcdef";
const subscriberId = "2f0c2b7e-8a53-4c4e-9f0e-3d7f4c1b9a10";
let rendition: Rendition;
let subject: string;
let template: MessageTemplate;
let baseline: ParsedMail;

/** The header names of a parsed message, in order, lower case: what we compare to the template's. */
const headerNames = (mail: ParsedMail) => mail.headerLines.map((h) => h.key);
const recipients = (mail: ParsedMail) =>
  (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((t) => t.value);
const asciiAddress = (address: string) => {
  const at = address.lastIndexOf("@");
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`.toLowerCase();
};

function goodReader(email = "reader@example.net"): ReaderParts {
  const links = readerLinks(identity, secret, { subscriberId, email }, "vol-2-6");
  return { ...links, messageId: messageId(identity, secret, "9b2d1c3e-0000-4000-8000-000000000001", 7) };
}

/** Values a reader part could take: our own well-formed ones, or hostile text of every kind. */
const urlLike = fc.oneof(
  fc.webUrl(),
  hostileText,
  fc.constantFrom(...injections).map((bad) => `https://news.example.org/unsubscribe/abc${bad}`),
);

beforeAll(async () => {
  const seed = readFileSync("examples/issues/vol-2-6.md", "utf8");
  const checked = await checkIssue(seed, newsletter);
  if (!checked.rendition || !checked.issue) throw new Error("the seed issue does not render");
  rendition = checked.rendition;
  subject = checked.issue.subject;
  template = await buildTemplate({ identity, subject, rendition });
  baseline = await simpleParser(spliceMessage(template, goodReader()));
});

describe("spliced reader values", () => {
  it("never add a header line or a recipient: the spliced message parses like the template's", async () => {
    let spliced = 0;
    await fc.assert(
      fc.asyncProperty(
        hostileAddress,
        urlLike,
        urlLike,
        urlLike,
        fc.oneof(fc.constant("<a.1@example.org>"), hostileText),
        async (email, unsubscribeUrl, manageUrl, viewUrl, mid) => {
          const reader = { ...goodReader(email), email, unsubscribeUrl, manageUrl, viewUrl, messageId: mid };
          let raw: Buffer;
          try {
            raw = spliceMessage(template, reader);
          } catch {
            return; // refused outright: nothing was sent
          }
          spliced++;
          const mail = await simpleParser(raw);
          expect(headerNames(mail)).toEqual(headerNames(baseline));
          expect(recipients(mail).map((r) => asciiAddress(r.address ?? ""))).toEqual([asciiAddress(email)]);
          expect(mail.bcc).toBeUndefined();
          expect(mail.cc).toBeUndefined();
          // The raw line, since mailparser normalises (and even decodes) a Message-ID.
          expect(mail.headerLines.find((h) => h.key === "message-id")?.line).toBe(`Message-ID: ${mid}`);
          const head = raw.toString("latin1").split("\r\n\r\n")[0] ?? "";
          expect(head).not.toMatch(/[^\r]\n|\r(?!\n)|\0/);
          // The reader's address comes back intact from both bodies, whatever it needed escaping for.
          expect(mail.text).toContain(email);
          expect(mail.html || "").toContain(email.replace(/&/g, "&amp;").replace(/'/g, "&#39;"));
        },
      ),
      { numRuns: 1500 },
    );
    expect(spliced).toBeGreaterThan(100);
  });
});

describe("a splice called DATA-ready (sent without a scan for dot-stuffing)", () => {
  it("has CRLF line ends only and no line starting with a dot, whatever dots the reader's values hold", () => {
    expect(template.plainLines).toBe(true);
    let ready = 0;
    let notReady = 0;
    const dotty = fc
      .array(fc.constantFrom(".", ".", "a", "=", "/", " ", "~", "é"), { maxLength: 400 })
      .map((chars) => chars.join(""));
    fc.assert(
      fc.property(dotty, dotty, dotty, fc.boolean(), (unsubscribe, manage, view, prefixed) => {
        const at = (s: string) => (prefixed ? `https://news.example.org/${s}` : s);
        let spliced: ReturnType<typeof splice>;
        try {
          spliced = splice(template, {
            ...goodReader(),
            unsubscribeUrl: at(unsubscribe),
            manageUrl: at(manage),
            viewUrl: at(view),
          });
        } catch {
          return; // refused outright (a header value it cannot carry)
        }
        if (!spliced.dataReady) {
          notReady++;
          return;
        }
        ready++;
        const text = spliced.raw.toString("latin1");
        expect(text).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
        expect(text).not.toMatch(/\n\./);
        expect(text.startsWith(".")).toBe(false);
      }),
      { numRuns: 1500 },
    );
    // Both answers were seen: the property is not about one of them only.
    expect(ready).toBeGreaterThan(50);
    expect(notReady).toBeGreaterThan(50);
  });
});

describe("building a message (the builder every send, test send, render and transactional mail uses)", () => {
  it("with hostile subject, newsletter name and address strings yields exactly one From, one To, and no Bcc", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, hostileAddress, async (evilSubject, evilName, to) => {
        const evil: MailIdentity = {
          ...identity,
          from: { ...identity.from, name: evilName },
          listName: evilName,
        };
        let raw: Buffer;
        try {
          const links = readerLinks(evil, secret, { subscriberId, email: to }, "vol-2-6");
          const built = await buildTemplate({ identity: evil, subject: evilSubject, rendition });
          raw = spliceMessage(built, { ...links, messageId: messageId(evil, secret, "s", 1) });
        } catch {
          return;
        }
        const mail = await simpleParser(raw);
        const names = headerNames(mail);
        for (const once of ["from", "to", "list-id", "list-unsubscribe", "message-id"])
          expect(
            names.filter((n) => n === once),
            once,
          ).toHaveLength(1);
        // An empty (or blank) subject is left out rather than written empty.
        expect(names.filter((n) => n === "subject").length).toBe(evilSubject.trim() === "" ? 0 : 1);
        expect(names).not.toContain("bcc");
        expect(names).not.toContain("cc");
        expect(mail.from?.value.map((v) => v.address)).toEqual([identity.from.address]);
        expect(recipients(mail).map((r) => asciiAddress(r.address ?? ""))).toEqual([asciiAddress(to)]);
      }),
      { numRuns: 300 },
    );
  });

  it("prepared headers carry only one line of printable ASCII, or are refused", () => {
    fc.assert(
      fc.property(hostileText, hostileText, (name, value) => {
        const list = listId({ ...identity, listName: name });
        expect(list).toMatch(/^"[\x20-\x7e]*" <[a-z0-9-]+\.example\.org>$/);
        try {
          const headers = prepared({ "X-Test": value, "List-Id": list });
          for (const header of Object.values(headers)) expect(header.value).toMatch(/^[\x20-\x7e]*$/);
        } catch (error) {
          expect(String(error)).toMatch(/cannot carry/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("transactional mail", () => {
  it("a reader's name never appears in any header, and the only recipient is the bare address", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, fc.emailAddress(), async (rawName, rawTo) => {
        const name = (() => {
          try {
            return normaliseName(`Zq9marker ${rawName}`);
          } catch {
            return undefined;
          }
        })();
        const to = (() => {
          try {
            return normaliseAddress(rawTo);
          } catch {
            return undefined;
          }
        })();
        fc.pre(name !== undefined && to !== undefined);
        const links = readerLinks(identity, secret, { subscriberId, email: to }, "");
        const mail = await renderTransactional(
          {
            kind: "welcome",
            name,
            archiveUrl: `${identity.publicUrl}/`,
            manageUrl: links.manageUrl,
            unsubscribeUrl: links.unsubscribeUrl,
          },
          newsletter,
        );
        const message = await composeTransactional({ identity, kind: "welcome", mail, links, key: "k1" });
        expect(message.envelope.to).toEqual([to]);
        const parsed = await simpleParser(message.raw);
        const head = message.raw.toString("latin1").split("\r\n\r\n")[0] ?? "";
        expect(head).not.toContain("Zq9marker");
        for (const line of parsed.headerLines) expect(line.line).not.toContain("Zq9marker");
        for (const value of parsed.headers.values()) expect(JSON.stringify(value)).not.toContain("Zq9marker");
        expect(recipients(parsed).map((r) => asciiAddress(r.address ?? ""))).toEqual([asciiAddress(to)]);
        expect(headerNames(parsed)).not.toContain("bcc");
        expect(parsed.text).toContain("Zq9marker");
      }),
      { numRuns: 150 },
    );
  });

  it("a welcome carries the list headers of an issue; all are auto-submitted, confirm and goodbye without list headers", async () => {
    const links = readerLinks(identity, secret, { subscriberId, email: "reader@example.net" }, "");
    const mail = { subject: "s", html: "<p>h</p>", text: "t" };
    const head = async (kind: "confirm" | "welcome" | "goodbye") =>
      (await composeTransactional({ identity, kind, mail, links, key: "k" })).raw
        .toString()
        .split("\r\n\r\n")[0];
    expect(await head("welcome")).toMatch(/^List-Unsubscribe: <https:[^>]+>, <mailto:/m);
    // SPEC §5: every mail Digest sends on its own, the welcome included, is marked auto-generated.
    expect(await head("welcome")).toMatch(/^Auto-Submitted: auto-generated$/m);
    for (const kind of ["confirm", "goodbye"] as const) {
      expect(await head(kind)).toMatch(/^Auto-Submitted: auto-generated$/m);
      expect(await head(kind)).not.toMatch(/^List-/m);
    }
  });

  it("refuses a recipient that is not one bare address", async () => {
    await fc.assert(
      fc.asyncProperty(fc.emailAddress(), fc.constantFrom(...injections), async (to, bad) => {
        const mail = { subject: "s", html: "<p>h</p>", text: "t" };
        await expect(
          composeTransactional({
            identity,
            kind: "confirm",
            mail,
            links: readerLinks(identity, secret, { subscriberId, email: `${to}${bad}` }, ""),
            key: "k",
          }),
        ).rejects.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

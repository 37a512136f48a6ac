import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, describe, it, vi } from "vitest";
import { fail, ok, warn } from "../../src/doctor/check.js";
import { socketAddress } from "../../src/http/request.js";
import { parseIssue } from "../../src/issues/parse.js";
import { renderIssue } from "../../src/issues/render.js";
import { saveIssue } from "../../src/issues/store.js";
import { renderTransactional } from "../../src/issues/transactional-content.js";
import { startSend } from "../../src/sending/plan.js";
import { addStaff } from "../../src/staff/accounts.js";
import { cliActor } from "../../src/staff/audit.js";
import { signSubscriberToken } from "../../src/subscribers/tokens.js";
import { repoRoot } from "../helpers/cli.js";
import { freePort } from "../helpers/smtp.js";
import { startService } from "../http/harness.js";
import { exampleIssue, pipeline, sendStatusOf, waitUntil } from "../sending/harness.js";
import { launchChromium } from "./chromium.js";

/**
 * axe-core, the engine behind most screen-reader-minded audits, run in Debian's Chromium on every
 * reader page, every console page, the issue email and each transactional mail: none may have a
 * serious or critical violation. Reader pages and mails are checked in light and in dark mode
 * (prefers-color-scheme emulated, as a phone in dark mode asks for it); the console has no dark
 * stylesheet, so dark would check the same colours twice.
 *
 * To check a new page, add one line to `targets` below: a URL (opened as a reader, a signed-in
 * admin, or a reader whose tab is in the background), a finished HTML string (a mail), or steps
 * that reach it.
 * Each target is one test a scheme, named after the page, so the run lists what was checked; each leaves
 * a full-page screenshot and every finding (minor ones too) in test-output/a11y/. A target is opened
 * once and checked in each of its schemes in that tab; a few targets are checked at a time.
 */
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const shots = join(repoRoot, "test-output", "a11y");
mkdirSync(shots, { recursive: true });

type Scheme = "light" | "dark";
type As = "reader" | "background-tab" | "staff";
/** `except`: rules not checked on this page, each with the reason (keep it empty for our own markup). */
type Target = { name: string; as?: As; schemes?: Scheme[]; except?: Record<string, string> } & (
  | { url: string }
  | { html: string }
  | { open: (page: Page) => Promise<unknown> }
);

/** Rules left out everywhere, each with the reason; empty: axe's whole WCAG 2.x A/AA set and best practices. */
const excludedRules: Record<string, string> = {};

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = await startService({ publicUrl: base });
const sending = await pipeline(service.database, service.smtp.url);
// Tracked, so the send page shows the Readership card and the mail as sent carries the links,
// canary and pixel; two languages, so reader pages offer the choice and can be checked in Japanese.
await sending.startWorker({ trackClicks: true, trackOpens: true });
const { createApp } = await import("../../src/http/app.js");
const app = await createApp({
  ...service.deps,
  clientIp: socketAddress,
  sending: sending.plan,
  dashboardQueues: [sending.queue],
  timezone: "Asia/Tokyo",
  languages: ["en", "ja"],
  tracking: { clicks: true, opens: true, retentionDays: 90 },
  // A fixed report with one check of each status: the page is what is checked here, not DNS.
  doctor: async () => ({
    ok: false,
    checks: [
      ok("spf", "SPF of alliance-digest.example.org allows the relay"),
      warn("dmarc", "DMARC policy is p=none", "publish p=quarantine once reports look clean"),
      fail("dkim", "no DKIM key at digest._domainkey.alliance-digest.example.org", "publish the TXT record"),
    ],
  }),
});
const server: ServerType = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
const browser = await launchChromium();
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
  await sending.close();
});

const { database, deps, newsletter } = service;
const { db } = database;

// Readers in each state a reader page shows, and a published issue with a finished send.
const reader = async (email: string, status: string) => {
  const [row] = await database.query<{
    id: string;
  }>(sql`insert into subscribers (email, name, status, consent_source, confirmed_at)
    values (${email}, 'Aiko Tanaka', ${status}, 'web', ${status === "pending" ? null : sql`now()`}) returning id`);
  return row!.id;
};
const pending = await reader("pending@readers.test", "pending");
/** Pages that change a reader (confirm, unsubscribe) get a new one each time they are opened. */
let readers = 0;
const freshReader = (status: string) => reader(`reader${++readers}@readers.test`, status);
const active = await reader("active@readers.test", "active");
const japanese = await reader("japanese@readers.test", "active");
await database.query(sql`update subscribers set language = 'ja' where id = ${japanese}`);
const unsubscribed = await reader("gone@readers.test", "unsubscribed");
await reader("bounced@readers.test", "bounced");
const token = (purpose: "confirm" | "manage" | "unsubscribe", id: string) =>
  signSubscriberToken(deps.secret, purpose, id);

// The mail server refuses one reader, so the send page and the bounces page have a bounce to show.
await reader("refused@readers.test", "active");
service.smtp.options.onRcpt = (address) =>
  address === "refused@readers.test" ? { code: 550, message: "5.1.1 no such user here" } : undefined;
const saved = await saveIssue(db, exampleIssue, newsletter);
const send = await startSend(sending.plan, { issueId: saved.issue.id });
await waitUntil(
  async () => (await sendStatusOf(database, send.sendId)) === "done",
  30_000,
  "the send to finish",
);
const issueUrl = `/admin/issues/${saved.issue.id}`;

/**
 * An issue that uses every Markdown element the template styles (quote, lists, code, image, rule,
 * subheading, emphasis, links), so each of their colours is checked, not only the seed's paragraphs.
 */
const everyElement = `---
volume: 99.1
date: 2026-12-01
subject: "Every element"
preheader: One of each
intro: "An **intro** with a [link to the alliance page](https://example.org/alliance)."
---

## A story with every block

Text with *emphasis*, **strong**, ~~struck~~, \`inline code\` and a [report on supply chains](https://example.org/report).

### A subheading

- one item
- another item

1. first
2. second

> A quote from the ambassador, with a [source for the quote](https://example.org/source).

\`\`\`
a code block
\`\`\`

![Map of the Indo-Pacific exercises](https://example.org/map.png)

---

## Second story

See [the first story](#a-story-with-every-block).
`;
const parsedEveryElement = parseIssue(everyElement).issue;
if (!parsedEveryElement) throw new Error("the every-element fixture no longer parses");
/** The HTML part of a message the worker sent: the tracked splice, as a reader's client gets it. */
async function sentHtml(): Promise<string> {
  const { simpleParser } = await import("mailparser");
  const message = service.smtp.messages.find((m) => m.to.includes("active@readers.test"));
  if (!message) throw new Error("no message to active@readers.test was captured");
  const parsed = await simpleParser(message.raw);
  if (typeof parsed.html !== "string" || !parsed.html.includes("/r/"))
    throw new Error("the sent mail is not tracked");
  return parsed.html;
}
const mastheadLinks = { unsubscribeUrl: `${base}/unsubscribe/x`, manageUrl: `${base}/manage/x` };
const mail = async (content: Parameters<typeof renderTransactional>[0]) =>
  (await renderTransactional(content, newsletter)).html;

const adminEmail = "chief@staff.test";
const password = "a long and sensible passphrase";
const setupToken = (await addStaff(db, cliActor, { email: "new@staff.test", role: "editor" })).token;

const targets: Target[] = [
  // Reader pages (SPEC §4).
  { name: "home: subscribe form and archive", url: "/" },
  {
    name: "subscribe: check your inbox",
    open: async (page) => {
      await page.goto(`${base}/`);
      await page.fill("#email", "new-reader@readers.test");
      await page.click("button[type=submit]");
      await page.locator("h1", { hasText: "Check your inbox" }).waitFor();
    },
  },
  // In a background tab the page stays as the link shows it: once shown, its script presses the button.
  { name: "confirm (GET): the button", as: "background-tab", url: `/confirm/${token("confirm", pending)}` },
  {
    name: "confirm (POST): subscription confirmed",
    as: "background-tab",
    open: async (page) => {
      await page.goto(`${base}/confirm/${token("confirm", await freshReader("pending"))}`);
      await page.click("button[type=submit]");
      await page.locator("h1", { hasText: "Subscription confirmed" }).waitFor();
    },
  },
  { name: "manage: an active reader", url: `/manage/${token("manage", active)}` },
  {
    name: "manage: after saving the name (notice)",
    open: async (page) => {
      await page.goto(`${base}/manage/${token("manage", active)}`);
      await page.fill("#name", "Aiko T.");
      await page.click("form:has(#name) button[type=submit]");
      await page.locator("[role=status]").waitFor();
    },
  },
  { name: "unsubscribe (GET): the button", url: `/unsubscribe/${token("unsubscribe", active)}` },
  {
    name: "unsubscribe (POST): done",
    open: async (page) => {
      await page.goto(`${base}/unsubscribe/${token("unsubscribe", await freshReader("active"))}`);
      await page.click("button[type=submit]");
      await page.locator("h1", { hasText: "Unsubscribed" }).waitFor();
    },
  },
  { name: "manage: an unsubscribed reader", url: `/manage/${token("manage", unsubscribed)}` },
  { name: "archive: web version of Vol 2.6", url: `/archive/${saved.issue.slug}` },
  { name: "archive: list with the search form", url: "/archive" },
  { name: "archive search: results with marked words", url: "/archive?q=alliance" },
  { name: "archive search: no story matches", url: "/archive?q=zzqxv" },
  {
    name: "home in Japanese (Accept-Language: ja)",
    open: async (page) => {
      await page.setExtraHTTPHeaders({ "Accept-Language": "ja" });
      await page.goto(`${base}/`);
    },
  },
  {
    name: "archive search in Japanese (Accept-Language: ja)",
    open: async (page) => {
      await page.setExtraHTTPHeaders({ "Accept-Language": "ja" });
      await page.goto(`${base}/archive?q=${encodeURIComponent("日米")}`);
    },
  },
  {
    name: "manage: a Japanese reader, with the tracking switch",
    url: `/manage/${token("manage", japanese)}`,
  },
  { name: "error page 404 (no such page)", url: "/no-such-page" },
  { name: "error page 400 (a broken manage link)", url: "/manage/not-a-token" },

  // Mails: the issue (seed and every element) and each transactional mail.
  { name: "mail: issue Vol 2.6 (seed)", html: saved.issue.html },
  {
    name: "mail: issue with every Markdown element",
    html: (await renderIssue(parsedEveryElement, newsletter)).html,
  },
  {
    name: "mail: confirm",
    html: await mail({ kind: "confirm", confirmUrl: `${base}/confirm/x`, via: "web" }),
  },
  {
    name: "mail: welcome",
    html: await mail({ kind: "welcome", name: "Aiko", archiveUrl: `${base}/`, ...mastheadLinks }),
  },
  { name: "mail: goodbye", html: await mail({ kind: "goodbye", resubscribeUrl: `${base}/manage/x` }) },
  { name: "mail: unsubscribe-link", html: await mail({ kind: "unsubscribe-link", ...mastheadLinks }) },
  {
    name: "mail: confirm in Japanese",
    html: (
      await renderTransactional(
        { kind: "confirm", confirmUrl: `${base}/confirm/x`, via: "web" },
        newsletter,
        "ja",
      )
    ).html,
  },
  { name: "mail: issue Vol 2.6 as sent, tracked (links, canary, pixel)", html: await sentHtml() },

  // Console pages (src/http/console), signed in as an admin unless the page is before sign-in.
  { name: "console: sign in", url: "/admin/login" },
  {
    name: "console: sign in, wrong password (401)",
    open: async (page) => {
      await page.goto(`${base}/admin/login`);
      await page.fill("#email", adminEmail);
      await page.fill("#password", "not the password at all");
      await page.click("button[type=submit]");
      await page.locator(".notice.bad").waitFor();
    },
  },
  { name: "console: set your password (setup link)", url: `/admin/setup/${setupToken}` },
  { name: "console: overview", as: "staff", url: "/admin" },
  { name: "console: doctor checklist", as: "staff", url: "/admin/doctor" },
  { name: "console: issues list", as: "staff", url: "/admin/issues" },
  { name: "console: new issue editor", as: "staff", url: "/admin/issues/new" },
  {
    name: "console: editor with lint errors (422)",
    as: "staff",
    open: async (page) => {
      await page.goto(`${base}/admin/issues/new`);
      await page.fill("#markdown", everyElement.replace("https://example.org/report", "javascript:alert(1)"));
      await page.click("form[action='/admin/issues'] button[type=submit]");
      await page.locator(".notice.bad").waitFor();
    },
  },
  { name: "console: issue page (Vol 2.6)", as: "staff", url: issueUrl },
  {
    // Served with a CSP sandbox that forbids scripts (axe among them), so its HTML is loaded as a page.
    name: "console: issue preview.html",
    as: "staff",
    open: async (page) =>
      page.setContent(await (await page.context().request.get(`${base}${issueUrl}/preview.html`)).text()),
  },
  { name: "console: send page (done, one bounce)", as: "staff", url: `/admin/sends/${send.sendId}` },
  { name: "console: subscribers", as: "staff", url: "/admin/subscribers" },
  {
    name: "console: import preview",
    as: "staff",
    open: async (page) => {
      await page.goto(`${base}/admin/subscribers`);
      await page.setInputFiles("#file", {
        name: "readers.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("email,name\nfresh@readers.test,Fresh\nnot-an-address,Broken\n"),
      });
      await page.click("form[action='/admin/subscribers/import'] button[type=submit]");
      await page.waitForURL(`${base}/admin/subscribers/import`);
    },
  },
  {
    name: "console: erase confirmation",
    as: "staff",
    open: async (page) => {
      await page.goto(`${base}/admin/subscribers?q=bounced`);
      await page.click("form[action='/admin/subscribers/erase'] button");
      await page.locator("h1", { hasText: "Erase" }).waitFor();
    },
  },
  { name: "console: bounces (one hard bounce)", as: "staff", url: "/admin/bounces" },
  { name: "console: audit log", as: "staff", url: "/admin/audit" },
  { name: "console: staff accounts", as: "staff", url: "/admin/staff" },
  { name: "console: your account", as: "staff", url: "/admin/account" },
  { name: "console: error page 404", as: "staff", url: "/admin/issues/00000000-0000-4000-8000-000000000000" },
  {
    name: "console: queues dashboard (bull-board)",
    as: "staff",
    // Its script fetches the queues after the page has loaded: checked once they are shown.
    open: async (page) => {
      await page.goto(`${base}/admin/queues`);
      await page.getByText(/^\d+ Jobs$/).waitFor();
    },
    // Everything else on this page is checked as on ours.
    except: {
      "button-name":
        "bull-board's own UI (@bull-board/ui, served as built): its icon-only menu buttons have no name",
      "svg-img-alt": "bull-board's own UI: its logo is an svg with role=img and no title",
      "color-contrast":
        "bull-board's own UI: its keyboard hint (kbd) is 4.38:1; we do not restyle a vendor page",
    },
  },
];

/**
 * One browser context per kind of visitor, opened once however many checks ask for it at the same
 * time; the admin's signs in through the setup link and the form.
 */
const contexts = new Map<As, Promise<BrowserContext>>();
function contextFor(as: As): Promise<BrowserContext> {
  let context = contexts.get(as);
  if (!context) {
    context = openContext(as);
    contexts.set(as, context);
  }
  return context;
}

async function openContext(as: As): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // axe runs as a script, so JavaScript stays on; a background tab keeps the confirm page's own
  // script from pressing its button (see confirm.ts).
  if (as === "background-tab")
    await context.addInitScript({
      content: `Object.defineProperty(document, "visibilityState", { get: () => "hidden" });`,
    });
  // Mails name images anywhere on the web; nothing leaves this machine.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  if (as === "staff") await signIn(context);
  return context;
}

async function signIn(context: BrowserContext) {
  const page = await context.newPage();
  const { token: setup } = await addStaff(db, cliActor, { email: adminEmail, role: "admin" });
  await page.goto(`${base}/admin/setup/${setup}`);
  await page.fill("#password", password);
  await page.fill("#repeat", password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/admin/login?done=setup`);
  await page.fill("#email", adminEmail);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/admin`);
  await page.close();
}

interface Finding {
  rule: string;
  impact: string;
  /** The rule, what it asks, and each failing element with axe's summary, in one readable line. */
  text: string;
}

/** What axe reports of one failed rule (axe-core's own types are for a page, not for these tests). */
interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[]; failureSummary: string }>;
}

/**
 * Runs axe (already in the page) in the page's top frame; each frame a page shows (the issue preview)
 * is a target of its own.
 */
async function audit(page: Page, except: Record<string, string> = {}): Promise<Finding[]> {
  const disabled = Object.keys({ ...excludedRules, ...except });
  const options = {
    iframes: false,
    resultTypes: ["violations"],
    rules: Object.fromEntries(disabled.map((id) => [id, { enabled: false }])),
  };
  // A string, because it runs in the page and the tests' TypeScript has no DOM types.
  const results = await page.evaluate<{ violations: Violation[] }>(
    `axe.run(document, ${JSON.stringify(options)})`,
  );
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    text: `${v.id} (${v.impact}): ${v.help}\n${v.nodes
      .map((n) => `  ${n.target.join(" ")}: ${n.failureSummary.replace(/\s+/g, " ")}`)
      .join("\n")}`,
  }));
}

/**
 * Takes the screenshots one after the other. Under load, Chromium (rendering in software here)
 * sometimes captures a full page with part of a frame still blank, more often with several tabs
 * capturing at once. Only the pictures suffer: axe reads the page, not its pixels.
 */
let screenshots: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(take: () => Promise<T>): Promise<T> {
  const taken = screenshots.then(take, take);
  screenshots = taken.catch(() => undefined);
  return taken;
}

const schemesOf = (target: Target): Scheme[] =>
  target.schemes ?? (target.name.startsWith("console:") ? ["light"] : ["light", "dark"]);

/**
 * Opens a target once, in a tab of its own, and checks it in each of its schemes in turn. The
 * colour scheme is a media feature, so switching it restyles the open page as opening it in that
 * scheme would (none of these pages reads it from a script); the page is reached, and axe's 650 kB
 * compiled into it, once instead of once a scheme. Each scheme leaves its screenshot and findings.
 */
async function check(target: Target): Promise<Map<Scheme, Finding[]>> {
  const context = await contextFor(target.as ?? "reader");
  const page = await context.newPage();
  try {
    const schemes = schemesOf(target);
    await page.emulateMedia({ colorScheme: schemes[0] });
    if ("url" in target) await page.goto(`${base}${target.url}`);
    else if ("html" in target) await page.setContent(target.html);
    else await target.open(page);
    await page.waitForLoadState("load");
    // Evaluated through the DevTools protocol, so the pages' own CSP (no scripts) stays as served.
    await page.evaluate(axeSource);
    const file = target.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    const findings = new Map<Scheme, Finding[]>();
    for (const scheme of schemes) {
      await page.emulateMedia({ colorScheme: scheme });
      const found = await audit(page, target.except);
      await oneAtATime(() => page.screenshot({ path: join(shots, `${file}-${scheme}.png`), fullPage: true }));
      writeFileSync(join(shots, `${file}-${scheme}.txt`), found.map((f) => f.text).join("\n"));
      findings.set(scheme, found);
    }
    return findings;
  } finally {
    await page.close();
  }
}

/** Each target's check, started by the first of its tests to run and awaited by the others. */
const checks = new Map<Target, Promise<Map<Scheme, Finding[]>>>();
function checked(target: Target): Promise<Map<Scheme, Finding[]>> {
  let result = checks.get(target);
  if (!result) {
    result = check(target);
    checks.set(target, result);
  }
  return result;
}

const serious = (f: Finding) => f.impact === "serious" || f.impact === "critical";

// Within a group the targets change nothing another reads (pages that change a reader get a fresh
// one), so a few run at a time, each in its own tab: one waits on the app or the browser while
// another computes. Six tests are three to six tabs (a reader page's two tests share one).
vi.setConfig({ maxConcurrency: 6 });

describe("axe-core in Chromium finds no serious or critical violation", () => {
  const checkEach = (group: Target[]) => {
    for (const target of group) {
      for (const scheme of schemesOf(target)) {
        it.concurrent(`${target.name} [${scheme}]`, async ({ expect }) => {
          const findings = (await checked(target)).get(scheme);
          if (!findings) throw new Error(`${target.name} was not checked in ${scheme}`);
          expect(findings.filter(serious).map((f) => f.text)).toEqual([]);
        }, 60_000);
      }
    }
  };
  const isConsole = (target: Target) => target.name.startsWith("console:");
  // The console's lists (subscribers, audit log) show what the reader pages did, all of it, as
  // when the pages were checked one after the other.
  describe("reader pages and mails", () => checkEach(targets.filter((t) => !isConsole(t))));
  describe("the console", () => checkEach(targets.filter(isConsole)));
});

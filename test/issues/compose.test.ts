import { readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { checkIssue, gmailClipBytes } from "../../src/issues/lint.js";
import { parseIssue } from "../../src/issues/parse.js";
import { loadNewsletter } from "../../src/newsletter.js";
import { resolveIdentity } from "../../src/sending/identity.js";
import { messageId, readerLinks } from "../../src/sending/reader-links.js";
import { buildTemplate, spliceMessage } from "../../src/sending/template.js";

const newsletter = loadNewsletter("newsletter.yaml");
const seed = readFileSync("examples/issues/vol-2-6.md", "utf8");
const seedText = readFileSync("test/fixtures/seed/alliance-digest-vol-2-6.txt", "utf8");

/** The five headlines and five detail paragraphs as the seed publication has them. */
const seedHeadlines = seedText
  .split("Headlines:")[1]!
  .split("Details:")[0]!
  .split("•")
  .slice(1)
  .map((s) => s.trim());
const seedDetails = seedText
  .split("Details:")[1]!
  .split("“US-Japan Alliance Digest” is")[0]!
  .split("•")
  .slice(1)
  .map((s) => s.trim());

const issue = (front: string, body: string) => `---\n${front}\n---\n${body}`;
const validFront = 'volume: 3\ndate: 2024-01-05\nsubject: "Vol 3"';

describe("the seed issue Vol 2.6", () => {
  it("keeps all five headlines and detail paragraphs word for word", () => {
    const { issue: parsed, problems } = parseIssue(seed);
    expect(problems).toEqual([]);
    expect(seedHeadlines).toHaveLength(5);
    expect(parsed?.stories.map((s) => s.headline)).toEqual(seedHeadlines);
    const bodies = parsed?.stories.map((s) => JSON.stringify(s.body));
    for (const [i, detail] of seedDetails.entries())
      expect(bodies?.[i]).toContain(JSON.stringify(detail).slice(1, -1));
  });

  it("renders to HTML and text that each carry every headline and paragraph, under Gmail's clip size", async () => {
    const { rendition, problems } = await checkIssue(seed, newsletter);
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    const html = rendition!.html;
    expect(Buffer.byteLength(html)).toBeLessThan(gmailClipBytes);
    const flatText = rendition!.text.replace(/\s+/g, " ");
    const decoded = html
      .replace(/&#x27;|&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
    for (const line of [...seedHeadlines, ...seedDetails]) {
      expect(decoded).toContain(line);
      expect(flatText).toContain(line);
    }
    // The headline list links to each story inside the message.
    for (const story of parseIssue(seed).issue!.stories) {
      expect(html).toContain(`href="#${story.id}"`);
      expect(html).toContain(`id="${story.id}"`);
    }
    expect(html).toContain("Download this issue (PDF)");
    expect(rendition!.text.split("\n").filter((l) => l.length > 78 && !/^\[\d+\] /.test(l))).toEqual([]);
  });

  it("becomes a multipart/alternative message, text first, with the list headers", async () => {
    const { issue: parsed, rendition } = await checkIssue(seed, newsletter);
    const identity = resolveIdentity({ publicUrl: "https://digest.example.org" }, newsletter);
    const links = readerLinks(
      identity,
      "a-test-secret-of-some-length",
      { subscriberId: crypto.randomUUID(), email: "a@b.example" },
      parsed!.slug,
    );
    const template = await buildTemplate({ identity, subject: parsed!.subject, rendition: rendition! });
    const raw = spliceMessage(template, {
      ...links,
      messageId: messageId(identity, "compose-secret", "s", 1),
    });
    const head = raw.toString("utf8").split("\r\n\r\n")[0]!;
    expect(head).toMatch(/Content-Type: multipart\/alternative/);
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(head).toMatch(
      /^List-Unsubscribe: <https:\/\/digest\.example\.org\/unsubscribe\/[a-z2-7]+>, <mailto:unsubscribe\+[a-z2-7]+@/m,
    );
    const mail = await simpleParser(raw);
    expect(mail.text).toContain(links.unsubscribeUrl);
    expect(mail.html).toContain(links.unsubscribeUrl);
    expect(raw.toString().indexOf("text/plain")).toBeLessThan(raw.toString().indexOf("text/html"));
  });
});

describe("a malformed issue", () => {
  const errorsOf = (source: string) =>
    parseIssue(source)
      .problems.filter((p) => p.severity === "error")
      .map((p) => `${p.line}: ${p.message}`);

  it("with bad YAML is refused with the line of the mistake", () => {
    expect(errorsOf(issue('volume: 3\ndate: [2024\nsubject: "x"', "## A\n\ntext"))[0]).toMatch(
      /^\d+: front matter:/,
    );
  });

  it("without a required key names the key", () => {
    expect(errorsOf(issue("volume: 3\ndate: 2024-01-05", "## A\n\ntext"))).toEqual([
      '1: front matter: "subject" is required',
    ]);
  });

  it("without stories is refused", () => {
    expect(errorsOf(issue(validFront, "just some text"))).toEqual([expect.stringMatching(/no story/)]);
  });

  it("with a story that has no text names the story's line", () => {
    expect(errorsOf(issue(validFront, "## Fine\n\ntext\n\n## Empty\n"))).toEqual([
      '10: story "Empty" has no text',
    ]);
  });

  it("with a javascript: link is refused", () => {
    expect(errorsOf(issue(validFront, "## A\n\nclick [me](javascript:alert(1))"))[0]).toMatch(
      /^8: link "javascript:alert\(1\)" must be/,
    );
  });

  it("with a relative link or an image without alt text is refused", () => {
    const errors = errorsOf(issue(validFront, "## A\n\n[x](/about) and ![](https://example.org/a.png)"));
    expect(errors).toHaveLength(2);
  });

  it("with a line break in the subject is refused, so nothing reaches a mail header", () => {
    const errors = errorsOf(
      issue('volume: 3\ndate: 2024-01-05\nsubject: "Hi\\r\\nBcc: victim@example.org"', "## A\n\ntext"),
    );
    expect(errors[0]).toMatch(/subject must be one line/);
  });

  it("with an unknown front matter key only warns", () => {
    const { issue: parsed, problems } = parseIssue(issue(`${validFront}\ncolour: blue`, "## A\n\ntext"));
    expect(parsed).toBeDefined();
    expect(problems).toEqual([
      { severity: "warning", line: 5, message: 'unknown front matter key "colour"' },
    ]);
  });
});

describe("text in an issue", () => {
  it("shows <, > and & as written, and raw HTML as text with a warning", async () => {
    const source = issue(
      validFront,
      '## Tom & Jerry <3\n\nIf a < b && c > d then <script>alert("x")</script> <b>bold</b>',
    );
    const { rendition, problems } = await checkIssue(source, newsletter);
    expect(problems.some((p) => p.severity === "warning" && /raw HTML/.test(p.message))).toBe(true);
    expect(rendition!.html).not.toContain("<script>");
    expect(rendition!.html).not.toContain("<b>bold");
    expect(rendition!.html).toContain("&lt;script&gt;");
    expect(rendition!.html).toContain("Tom &amp; Jerry &lt;3");
    expect(rendition!.text).toContain("If a < b && c > d then <script>");
    expect(rendition!.text).toContain("Tom & Jerry <3");
  });

  it("over 102 KB of HTML fails lint", async () => {
    const big = Array.from({ length: 400 }, (_, i) => `Paragraph ${i} ${"lorem ipsum ".repeat(25)}`).join(
      "\n\n",
    );
    const { problems } = await checkIssue(issue(validFront, `## Long\n\n${big}`), newsletter);
    expect(problems.some((p) => p.severity === "error" && /Gmail clips/.test(p.message))).toBe(true);
  });
});

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, resolvePublicUrl } from "../config.js";
import { InputError } from "../errors.js";
import { renderPdf } from "../issues/edition.js";
import { checkIssue, formatProblem } from "../issues/lint.js";
import { personalize } from "../issues/personalize.js";
import { resolveIdentity } from "../sending/identity.js";
import { messageId, readerLinks } from "../sending/reader-links.js";
import { buildTemplate, spliceMessage } from "../sending/template.js";
import { newsletterFor } from "./context.js";

function readIssueFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(file, undefined, "cannot read the issue file", { cause: error });
  }
}

async function check(file: string, newsletterOpt: string | undefined) {
  const newsletter = newsletterFor(newsletterOpt);
  const checked = await checkIssue(readIssueFile(file), newsletter, file);
  for (const p of checked.problems) process.stderr.write(`${formatProblem(file, p)}\n`);
  const errors = checked.problems.filter((p) => p.severity === "error").length;
  return { ...checked, newsletter, errors };
}

export async function lintCommand(file: string, opts: { newsletter?: string }): Promise<number> {
  const { errors, problems } = await check(file, opts.newsletter);
  const warnings = problems.length - errors;
  process.stdout.write(`${file}: ${errors} error(s), ${warnings} warning(s)\n`);
  return errors > 0 ? 1 : 0;
}

/** Sample reader values for the .eml a person opens to see the mail as a reader would. */
const sampleSecret = "digest-render-sample-only-not-a-secret";
const sampleReader = { subscriberId: "00000000-0000-4000-8000-000000000000", email: "reader@example.com" };

export async function renderCommand(
  file: string,
  opts: { out: string; newsletter?: string },
): Promise<number> {
  const { issue, rendition, newsletter, errors } = await check(file, opts.newsletter);
  if (!issue || !rendition || errors > 0) {
    process.stderr.write(`${file}: not rendered: fix the errors above (digest lint ${file})\n`);
    return 1;
  }
  const settings = loadConfig(["publicUrl", "port", "mailFrom", "mailDomain"]);
  const identity = resolveIdentity({ ...settings, publicUrl: resolvePublicUrl(settings).url }, newsletter);
  const links = readerLinks(identity, sampleSecret, sampleReader, issue.slug);
  // The files show what a reader sees: the rendition with a sample reader's links filled in.
  const sample = personalize(rendition, links);
  // The sample .eml is built exactly as a reader's message is: the send's template, one reader spliced in.
  const template = await buildTemplate({ identity, subject: issue.subject, rendition });
  const eml = spliceMessage(template, {
    ...links,
    messageId: messageId(identity, sampleSecret, "sample", 0),
  });
  const pdf = await renderPdf(issue, newsletter);
  mkdirSync(opts.out, { recursive: true });
  const base = join(opts.out, issue.slug);
  writeFileSync(`${base}.html`, sample.html);
  writeFileSync(`${base}.txt`, sample.text);
  writeFileSync(`${base}.eml`, eml);
  writeFileSync(`${base}.pdf`, pdf);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(
    `${base}.html  ${kb(Buffer.byteLength(sample.html))}\n` +
      `${base}.txt   ${kb(Buffer.byteLength(sample.text))}\n` +
      `${base}.eml   ${kb(eml.length)}\n` +
      `${base}.pdf   ${kb(pdf.length)}\n`,
  );
  return 0;
}

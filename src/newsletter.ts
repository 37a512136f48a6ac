import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { InputError } from "./errors.js";

/** One line of plain text: nothing that could end a mail header early. */
const line = z
  .string()
  .min(1)
  .refine((s) => !/[\r\n\0]/.test(s), "must be one line");
const link = z
  .string()
  .url()
  .refine((u) => /^(https?:|mailto:)/.test(u), "must be an https:, http: or mailto: URL");

export const Newsletter = z.strictObject({
  name: line,
  tagline: line.optional(),
  /** `Name <address>` or a bare address; MAIL_FROM overrides it. */
  from: line,
  replyTo: line.optional(),
  publisher: line.optional(),
  website: link.optional(),
  postalAddress: line,
  footer: z.string().min(1),
  contact: z.string().email().optional(),
  archiveTitle: line.optional(),
  social: z.array(z.strictObject({ label: line, url: link })).default([]),
  /** Paper size of the PDF edition; Letter when unset (the Alliance Digest's readers are mostly in the US). */
  paper: z.enum(["A4", "Letter"]).optional(),
});
export type Newsletter = z.output<typeof Newsletter>;

/** Reads the newsletter file (`--newsletter`, else $NEWSLETTER_FILE, else ./newsletter.yaml). */
export function loadNewsletter(file: string, cwd = process.cwd()): Newsletter {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InputError(file, undefined, "cannot read the newsletter file", { cause: error });
  }
  return parseNewsletter(text, file);
}

export function parseNewsletter(text: string, file: string): Newsletter {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const [yamlError] = doc.errors;
  if (yamlError)
    throw new InputError(file, yamlError.linePos?.[0]?.line, yamlError.message.split("\n")[0] ?? "bad YAML");
  const result = Newsletter.safeParse(doc.toJS());
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const key = issue?.path[0];
  let lineNo: number | undefined;
  if (isMap(doc.contents) && typeof key === "string") {
    const pair = doc.contents.items.find((p) => String((p.key as { value?: unknown })?.value) === key);
    const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (range) lineNo = lines.linePos(range[0]).line;
  }
  throw new InputError(file, lineNo, `${issue?.path.join(".") || "file"}: ${issue?.message ?? "invalid"}`);
}

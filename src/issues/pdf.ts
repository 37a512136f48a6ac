import { renderToBuffer } from "@react-pdf/renderer";
import { createElement } from "react";
import IssuePdf, { type Paper } from "../../emails/_pdf/issue-pdf.js";
import type { Newsletter } from "../newsletter.js";
import type { ParsedIssue } from "./parse.js";
import { registerPdfFonts } from "./pdf-fonts.js";
import { dateLabel, mastheadOf } from "./render.js";

export const pdfPaper = (newsletter: Newsletter): Paper => (newsletter.paper === "A4" ? "A4" : "LETTER");

/** The PDF edition of an issue: rendered once per issue, never per reader (it names no reader). */
export async function renderIssuePdf(issue: ParsedIssue, newsletter: Newsletter): Promise<Buffer> {
  registerPdfFonts();
  const element = createElement(IssuePdf, {
    masthead: mastheadOf(newsletter),
    volumeLabel: `Vol ${issue.volume}`,
    dateLabel: dateLabel(issue.date),
    subject: issue.subject,
    issuedAt: new Date(`${issue.date}T12:00:00Z`),
    paper: pdfPaper(newsletter),
    intro: issue.intro,
    stories: issue.stories,
  });
  return renderToBuffer(element);
}

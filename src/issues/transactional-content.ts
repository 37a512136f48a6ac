import { render } from "@react-email/render";
import { createElement } from "react";
import ConfirmEmail from "../../emails/confirm.js";
import GoodbyeEmail from "../../emails/goodbye.js";
import UnsubscribeLinkEmail from "../../emails/unsubscribe-link.js";
import WelcomeEmail from "../../emails/welcome.js";
import { format, type Language, messagesFor } from "../i18n/catalogue.js";
import type { Newsletter } from "../newsletter.js";
import { htmlToText, mastheadOf } from "./render.js";

/**
 * The transactional mails (confirm, welcome, goodbye, unsubscribe-link) rendered to HTML + text, in
 * the reader's language: every word comes from that language's catalogue (src/i18n), and the
 * templates only place it. Unlike an issue they are rendered per mail: each carries one reader's
 * links, and there are few of them.
 */
export type TransactionalContent =
  | { kind: "confirm"; confirmUrl: string; via: "web" | "email" | "staff" }
  | { kind: "welcome"; name?: string; archiveUrl: string; manageUrl: string; unsubscribeUrl: string }
  | { kind: "goodbye"; resubscribeUrl: string }
  | { kind: "unsubscribe-link"; unsubscribeUrl: string; manageUrl: string };

export interface TransactionalMail {
  subject: string;
  html: string;
  text: string;
  /** The language it is written in: its root's `lang` and its Content-Language header (none when unset). */
  language?: Language;
}

export async function renderTransactional(
  content: TransactionalContent,
  newsletter: Newsletter,
  language: Language = "en",
): Promise<TransactionalMail> {
  const masthead = mastheadOf(newsletter);
  const m = messagesFor(language);
  const fill = (text: string, values: Record<string, string> = {}) =>
    format(text, { newsletter: newsletter.name, ...values });
  const footerLabels = {
    viewInBrowser: m["mail.footer.viewInBrowser"],
    manage: m["mail.footer.manage"],
    unsubscribe: m["mail.footer.unsubscribe"],
  };
  let subject: string;
  let element: ReturnType<typeof createElement>;
  switch (content.kind) {
    case "confirm":
      subject = fill(m["mail.confirm.subject"]);
      element = createElement(ConfirmEmail, {
        masthead,
        confirmUrl: content.confirmUrl,
        lang: language,
        text: {
          preview: subject,
          kicker: m["mail.confirm.kicker"],
          body: fill(m["mail.confirm.body"], { via: m[`mail.confirm.via.${content.via}`] }),
          button: m["mail.confirm.button"],
          note: m["mail.confirm.note"],
        },
      });
      break;
    case "welcome":
      subject = fill(m["mail.welcome.subject"]);
      element = createElement(WelcomeEmail, {
        masthead,
        archiveUrl: content.archiveUrl,
        manageUrl: content.manageUrl,
        unsubscribeUrl: content.unsubscribeUrl,
        lang: language,
        text: {
          preview: subject,
          kicker: m["mail.welcome.kicker"],
          lead: content.name
            ? fill(m["mail.welcome.leadNamed"], { name: content.name })
            : fill(m["mail.welcome.lead"]),
          archiveBefore: m["mail.welcome.archiveBefore"],
          archiveLink: m["mail.welcome.archiveLink"],
          archiveAfter: m["mail.welcome.archiveAfter"],
        },
        footerLabels,
      });
      break;
    case "goodbye":
      subject = fill(m["mail.goodbye.subject"]);
      element = createElement(GoodbyeEmail, {
        masthead,
        resubscribeUrl: content.resubscribeUrl,
        lang: language,
        text: {
          preview: subject,
          kicker: m["mail.goodbye.kicker"],
          body: fill(m["mail.goodbye.body"]),
          resubscribeBefore: m["mail.goodbye.resubscribeBefore"],
          resubscribeLink: m["mail.goodbye.resubscribeLink"],
          resubscribeAfter: m["mail.goodbye.resubscribeAfter"],
        },
      });
      break;
    case "unsubscribe-link":
      subject = fill(m["mail.unsubscribeLink.subject"]);
      element = createElement(UnsubscribeLinkEmail, {
        masthead,
        unsubscribeUrl: content.unsubscribeUrl,
        manageUrl: content.manageUrl,
        lang: language,
        text: {
          preview: subject,
          kicker: m["mail.unsubscribeLink.kicker"],
          body: fill(m["mail.unsubscribeLink.body"]),
          button: m["mail.unsubscribeLink.button"],
          note: m["mail.unsubscribeLink.note"],
        },
        footerLabels,
      });
      break;
  }
  const html = await render(element);
  return { subject, html, text: htmlToText(html), language };
}

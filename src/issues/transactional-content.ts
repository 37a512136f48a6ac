import { render } from "@react-email/render";
import { createElement } from "react";
import ConfirmEmail from "../../emails/confirm.js";
import GoodbyeEmail from "../../emails/goodbye.js";
import UnsubscribeLinkEmail from "../../emails/unsubscribe-link.js";
import WelcomeEmail from "../../emails/welcome.js";
import type { Newsletter } from "../newsletter.js";
import { htmlToText, mastheadOf } from "./render.js";

/**
 * The transactional mails (confirm, welcome, goodbye, unsubscribe-link) rendered to HTML + text. Unlike an issue they
 * are rendered per mail: each carries one reader's links, and there are few of them.
 */
export type TransactionalContent =
  | { kind: "confirm"; confirmUrl: string; via: string }
  | { kind: "welcome"; name?: string; archiveUrl: string; manageUrl: string; unsubscribeUrl: string }
  | { kind: "goodbye"; resubscribeUrl: string }
  | { kind: "unsubscribe-link"; unsubscribeUrl: string; manageUrl: string };

export interface TransactionalMail {
  subject: string;
  html: string;
  text: string;
}

export async function renderTransactional(
  content: TransactionalContent,
  newsletter: Newsletter,
): Promise<TransactionalMail> {
  const masthead = mastheadOf(newsletter);
  let subject: string;
  let element: ReturnType<typeof createElement>;
  switch (content.kind) {
    case "confirm":
      subject = `Confirm your subscription to ${newsletter.name}`;
      element = createElement(ConfirmEmail, { masthead, confirmUrl: content.confirmUrl, via: content.via });
      break;
    case "welcome":
      subject = `Welcome to ${newsletter.name}`;
      element = createElement(WelcomeEmail, {
        masthead,
        name: content.name,
        archiveUrl: content.archiveUrl,
        manageUrl: content.manageUrl,
        unsubscribeUrl: content.unsubscribeUrl,
      });
      break;
    case "goodbye":
      subject = `You are unsubscribed from ${newsletter.name}`;
      element = createElement(GoodbyeEmail, { masthead, resubscribeUrl: content.resubscribeUrl });
      break;
    case "unsubscribe-link":
      subject = `Your link to unsubscribe from ${newsletter.name}`;
      element = createElement(UnsubscribeLinkEmail, {
        masthead,
        unsubscribeUrl: content.unsubscribeUrl,
        manageUrl: content.manageUrl,
      });
      break;
  }
  const html = await render(element);
  return { subject, html, text: htmlToText(html) };
}

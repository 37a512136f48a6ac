/**
 * The English catalogue: the source every other language is checked against. Its keys are the
 * `MessageKey` type, so a page or mail asking for a key that is not here does not compile, and a
 * catalogue that lacks one of these keys does not compile either (see ja.ts).
 *
 * `{name}` marks a value filled in when the text is used (the newsletter's name, a reader's name, a
 * link); values are escaped by the page or mail that shows them, never here.
 */
export const en = {
  "language.name": "English",

  "page.subscribeTitle": "Subscribe",
  "home.emailLabel": "Email address",
  "home.nameLabel": "Name",
  "home.optional": "(optional)",
  "home.honeypotLabel": "Leave this field empty",
  "home.languageLabel": "Language",
  "home.subscribeButton": "Subscribe",
  "home.confirmFirst": "We send a confirmation link first: nothing arrives until you click it.",
  "home.pastIssues": "Past issues",
  "home.noIssues": "No issues yet.",
  "home.pdf": "PDF",
  "archive.title": "Archive",
  "archive.allIssues": "All issues",
  "search.label": "Search the archive",
  "search.button": "Search",
  "search.hint": 'Words, a Japanese term such as 日米, or a "phrase in quotes".',
  "search.resultsTitle": "Search: {query}",
  "search.resultCount.one": "1 story matches",
  "search.resultCount.other": "{count} stories match",
  "search.showingFirst": "Showing the best {count}.",
  "search.noMatches": "No stories match. Try fewer or other words.",
  "search.issueIntro": "Issue overview",

  "subscribe.checkInboxTitle": "Check your inbox",
  "subscribe.accepted": "Thank you. If the address can receive mail, a confirmation link is on its way.",

  "confirm.title": "Confirm your subscription",
  "confirm.oneMoreStep": "One more step: press the button to receive {newsletter} at this address.",
  "confirm.button": "Confirm my subscription",
  "confirm.notYou": "If you did not ask for it, close this page: nothing will be sent to you.",
  "confirmed.title": "Subscription confirmed",
  "confirmed.welcome": "You are subscribed to {newsletter}. Welcome!",
  "confirmed.otherTitle": "Subscription",
  "confirmed.stayedUnsubscribed":
    "This address was unsubscribed after the link was sent, so it stays unsubscribed.",
  "confirmed.cannot": "This address cannot be confirmed right now.",

  "unsubscribe.title": "Unsubscribe",
  "unsubscribe.question": "Stop receiving {newsletter} at this address?",
  "unsubscribe.button": "Unsubscribe",
  "unsubscribed.title": "Unsubscribed",
  "unsubscribed.text": "You will receive no more mail from {newsletter}.",

  "manage.title": "Your subscription",
  "manage.statusLine": "{email}: {status}.",
  "manage.status.pending": "waiting for you to click the confirmation link we mailed you",
  "manage.status.active": "subscribed",
  "manage.status.unsubscribed": "unsubscribed",
  "manage.status.bounced": "paused: mail to this address bounced",
  "manage.status.complained": "paused: this address reported our mail as unwanted",
  "manage.nameLabel": "Name",
  "manage.saveName": "Save name",
  "manage.languageLabel": "Language",
  "manage.saveLanguage": "Save language",
  "manage.subscribeAgain": "Subscribe again",
  "manage.newLinkNote": "We will mail you a new confirmation link.",
  "manage.unsubscribeButton": "Unsubscribe",
  "manage.notice.nameSaved": "Your name is saved.",
  "manage.notice.languageSaved": "Your language is saved: pages and mail from us are now in English.",
  "manage.notice.unsubscribed": "You are unsubscribed.",
  "manage.notice.resubscribed": "Check your inbox: we sent a confirmation link.",
  "manage.tracking.heading": "Reading statistics",
  "manage.tracking.explainBoth":
    "When you open our mail or follow a link in it, we record the time, your network address and your browser's name, to learn which stories are read; the records are deleted after {days} days.",
  "manage.tracking.explainClicks":
    "When you follow a link in our mail, we record the time, your network address and your browser's name, to learn which stories are read; the records are deleted after {days} days.",
  "manage.tracking.explainOpens":
    "When you open our mail, we record the time, your network address and your browser's name, to learn which stories are read; the records are deleted after {days} days.",
  "manage.tracking.offNow": "You turned this off: your mail has plain links and no tracking image.",
  "manage.tracking.turnOff": "Turn off for me",
  "manage.tracking.turnOn": "Turn on again",
  "manage.notice.trackingOff": "Done: from the next mail on, your links are plain and nothing is recorded.",
  "manage.notice.trackingOn": "Done: reading statistics are on again for you.",

  "error.title": "That did not work",
  "error.serverTitle": "Sorry",
  "error.badRequest": "The request could not be used. Please check what you entered and try again.",
  "error.badLink": "This link does not work. It may be incomplete, or it may have expired.",
  "error.notFound": "There is nothing here. The link may be mistyped, or it may have expired.",
  "error.tooLarge": "What you sent is too large.",
  "error.tooMany": "Too many requests came from your address. Please try again later.",
  "error.unavailable": "This cannot be done right now. Please try again in a few minutes.",
  "error.server": "Something went wrong on our side. Please try again later.",
  "error.detail": "Details: {detail}",

  "mail.footer.viewInBrowser": "View in browser",
  "mail.footer.manage": "Manage your subscription",
  "mail.footer.unsubscribe": "Unsubscribe",

  "mail.confirm.subject": "Confirm your subscription to {newsletter}",
  "mail.confirm.kicker": "Confirm your subscription",
  "mail.confirm.body":
    "Someone, hopefully you, asked to receive {newsletter} at this address through {via}. Please confirm that you want it:",
  "mail.confirm.via.web": "the web form",
  "mail.confirm.via.email": "an email",
  "mail.confirm.via.staff": "the newsletter's staff",
  "mail.confirm.button": "Confirm",
  "mail.confirm.note":
    "The link works for 7 days. If you did not ask, ignore this mail: nothing will be sent to you.",

  "mail.welcome.subject": "Welcome to {newsletter}",
  "mail.welcome.kicker": "You are subscribed",
  "mail.welcome.leadNamed": "Welcome, {name}! Your subscription to {newsletter} is confirmed.",
  "mail.welcome.lead": "Welcome! Your subscription to {newsletter} is confirmed.",
  "mail.welcome.archiveBefore": "Past issues are in the ",
  "mail.welcome.archiveLink": "archive",
  "mail.welcome.archiveAfter": ".",

  "mail.goodbye.subject": "You are unsubscribed from {newsletter}",
  "mail.goodbye.kicker": "Unsubscribed",
  "mail.goodbye.body":
    "You will receive no more issues of {newsletter}. This is the last mail we send you about it.",
  "mail.goodbye.resubscribeBefore": "Changed your mind? ",
  "mail.goodbye.resubscribeLink": "Subscribe again",
  "mail.goodbye.resubscribeAfter": ".",

  "mail.unsubscribeLink.subject": "Your link to unsubscribe from {newsletter}",
  "mail.unsubscribeLink.kicker": "Unsubscribe",
  "mail.unsubscribeLink.body":
    "We received a mail asking to unsubscribe this address from {newsletter}. Anyone can put an address on a mail, so nothing has changed yet: if it was you, use this button.",
  "mail.unsubscribeLink.button": "Unsubscribe me",
  "mail.unsubscribeLink.note": "If you did not ask, ignore this mail: you stay subscribed.",
} as const;

export type MessageKey = keyof typeof en;
/** A catalogue: every key of the English source, each a string. */
export type Messages = { readonly [K in MessageKey]: string };

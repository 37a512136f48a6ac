/**
 * Options several commands share. Kept apart from context.ts, which opens databases and reads the
 * settings: the command files import this at start, so it must load nothing heavy.
 */
export const newsletterOption = [
  "--newsletter <file>",
  "the newsletter settings file (default: $NEWSLETTER_FILE or ./newsletter.yaml)",
] as const;

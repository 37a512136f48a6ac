import { Link } from "@react-email/link";
import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * Confirms an unsubscribe; offers the way back without making it a subscription. Its words come
 * filled in, in the reader's language (src/i18n).
 */
export interface GoodbyeEmailProps {
  masthead: Masthead;
  resubscribeUrl: string;
  lang: string;
  text: {
    preview: string;
    kicker: string;
    body: string;
    /** The sentence around the link back: before it, the link's own words, after it. */
    resubscribeBefore: string;
    resubscribeLink: string;
    resubscribeAfter: string;
  };
}

export default function GoodbyeEmail({ masthead, resubscribeUrl, lang, text }: GoodbyeEmailProps) {
  return (
    <Layout masthead={masthead} lang={lang} preview={text.preview} kicker={text.kicker}>
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {text.body}
      </Text>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        {text.resubscribeBefore}
        <Link
          href={resubscribeUrl}
          style={{ color: colors.accent, textDecoration: "underline" }}
          className="dg-link"
        >
          {text.resubscribeLink}
        </Link>
        {text.resubscribeAfter}
      </Text>
    </Layout>
  );
}

GoodbyeEmail.PreviewProps = {
  masthead: sampleMasthead,
  resubscribeUrl: "https://digest.example.org/manage/sample",
  lang: "en",
  text: {
    preview: "You are unsubscribed from US-Japan Alliance Digest",
    kicker: "Unsubscribed",
    body: "You will receive no more issues of US-Japan Alliance Digest. This is the last mail we send you about it.",
    resubscribeBefore: "Changed your mind? ",
    resubscribeLink: "Subscribe again",
    resubscribeAfter: ".",
  },
} satisfies GoodbyeEmailProps;

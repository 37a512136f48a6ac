import { Link } from "@react-email/link";
import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { type FooterLabels, Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * Sent once the address is confirmed; like every mail to a confirmed reader it can unsubscribe.
 * Its words come filled in, in the reader's language (src/i18n); the tagline is the staff's own.
 */
export interface WelcomeEmailProps {
  masthead: Masthead;
  archiveUrl: string;
  manageUrl: string;
  unsubscribeUrl: string;
  lang: string;
  text: {
    preview: string;
    kicker: string;
    /** The greeting, with the reader's name when they gave one. */
    lead: string;
    /** The sentence around the archive link: before it, the link's own words, after it. */
    archiveBefore: string;
    archiveLink: string;
    archiveAfter: string;
  };
  footerLabels: FooterLabels;
}

export default function WelcomeEmail(props: WelcomeEmailProps) {
  const { masthead, text } = props;
  return (
    <Layout
      masthead={masthead}
      lang={props.lang}
      preview={text.preview}
      kicker={text.kicker}
      links={{ manageUrl: props.manageUrl, unsubscribeUrl: props.unsubscribeUrl }}
      footerLabels={props.footerLabels}
    >
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {text.lead}
      </Text>
      {/* The staff's own words, in the newsletter's language: a paragraph apart, not mid-sentence. */}
      {masthead.tagline ? (
        <Text className="dg-muted" style={{ fontSize: "15px", lineHeight: "24px", color: colors.muted }}>
          {masthead.tagline}
        </Text>
      ) : null}
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {text.archiveBefore}
        <Link
          href={props.archiveUrl}
          style={{ color: colors.accent, textDecoration: "underline" }}
          className="dg-link"
        >
          {text.archiveLink}
        </Link>
        {text.archiveAfter}
      </Text>
    </Layout>
  );
}

WelcomeEmail.PreviewProps = {
  masthead: sampleMasthead,
  archiveUrl: "https://digest.example.org/",
  manageUrl: "https://digest.example.org/manage/sample",
  unsubscribeUrl: "https://digest.example.org/unsubscribe/sample",
  lang: "en",
  text: {
    preview: "Welcome to US-Japan Alliance Digest",
    kicker: "You are subscribed",
    lead: "Welcome, Aiko! Your subscription to US-Japan Alliance Digest is confirmed.",
    archiveBefore: "Past issues are in the ",
    archiveLink: "archive",
    archiveAfter: ".",
  },
  footerLabels: {
    viewInBrowser: "View in browser",
    manage: "Manage your subscription",
    unsubscribe: "Unsubscribe",
  },
} satisfies WelcomeEmailProps;

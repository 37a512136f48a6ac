import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { ActionButton, type FooterLabels, Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * The answer to a mail to unsubscribe@. A From header is easy to forge, so that mail changes
 * nothing by itself: the reader gets their own unsubscribe link, and only their click counts. Its
 * words come filled in, in the reader's language (src/i18n).
 */
export interface UnsubscribeLinkEmailProps {
  masthead: Masthead;
  unsubscribeUrl: string;
  manageUrl: string;
  lang: string;
  text: { preview: string; kicker: string; body: string; button: string; note: string };
  footerLabels: FooterLabels;
}

export default function UnsubscribeLinkEmail({
  masthead,
  unsubscribeUrl,
  manageUrl,
  lang,
  text,
  footerLabels,
}: UnsubscribeLinkEmailProps) {
  return (
    <Layout
      masthead={masthead}
      lang={lang}
      preview={text.preview}
      kicker={text.kicker}
      links={{ manageUrl, unsubscribeUrl }}
      footerLabels={footerLabels}
    >
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {text.body}
      </Text>
      <ActionButton href={unsubscribeUrl}>{text.button}</ActionButton>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        {text.note}
      </Text>
    </Layout>
  );
}

UnsubscribeLinkEmail.PreviewProps = {
  masthead: sampleMasthead,
  unsubscribeUrl: "https://digest.example.org/unsubscribe/sample",
  manageUrl: "https://digest.example.org/manage/sample",
  lang: "en",
  text: {
    preview: "Your link to unsubscribe from US-Japan Alliance Digest",
    kicker: "Unsubscribe",
    body: "We received a mail asking to unsubscribe this address from US-Japan Alliance Digest. Anyone can put an address on a mail, so nothing has changed yet: if it was you, use this button.",
    button: "Unsubscribe me",
    note: "If you did not ask, ignore this mail: you stay subscribed.",
  },
  footerLabels: {
    viewInBrowser: "View in browser",
    manage: "Manage your subscription",
    unsubscribe: "Unsubscribe",
  },
} satisfies UnsubscribeLinkEmailProps;

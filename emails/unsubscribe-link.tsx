import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { ActionButton, Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * The answer to a mail to unsubscribe@. A From header is easy to forge, so that mail changes
 * nothing by itself: the reader gets their own unsubscribe link, and only their click counts.
 */
export interface UnsubscribeLinkEmailProps {
  masthead: Masthead;
  unsubscribeUrl: string;
  manageUrl: string;
}

export default function UnsubscribeLinkEmail({
  masthead,
  unsubscribeUrl,
  manageUrl,
}: UnsubscribeLinkEmailProps) {
  return (
    <Layout
      masthead={masthead}
      preview={`Your link to unsubscribe from ${masthead.name}`}
      kicker="Unsubscribe"
      links={{ manageUrl, unsubscribeUrl }}
    >
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        We received a mail asking to unsubscribe this address from {masthead.name}. Anyone can put an address
        on a mail, so nothing has changed yet: if it was you, use this button.
      </Text>
      <ActionButton href={unsubscribeUrl}>Unsubscribe me</ActionButton>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        If you did not ask, ignore this mail: you stay subscribed.
      </Text>
    </Layout>
  );
}

UnsubscribeLinkEmail.PreviewProps = {
  masthead: sampleMasthead,
  unsubscribeUrl: "https://digest.example.org/unsubscribe/sample",
  manageUrl: "https://digest.example.org/manage/sample",
} satisfies UnsubscribeLinkEmailProps;

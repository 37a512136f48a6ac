import { Link } from "@react-email/link";
import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/** Confirms an unsubscribe; offers the way back without making it a subscription. */
export interface GoodbyeEmailProps {
  masthead: Masthead;
  resubscribeUrl: string;
}

export default function GoodbyeEmail({ masthead, resubscribeUrl }: GoodbyeEmailProps) {
  return (
    <Layout masthead={masthead} preview={`You are unsubscribed from ${masthead.name}`} kicker="Unsubscribed">
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        You will receive no more issues of {masthead.name}. This is the last mail we send you about it.
      </Text>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        Changed your mind?{" "}
        <Link
          href={resubscribeUrl}
          style={{ color: colors.accent, textDecoration: "underline" }}
          className="dg-link"
        >
          Subscribe again
        </Link>
        .
      </Text>
    </Layout>
  );
}

GoodbyeEmail.PreviewProps = {
  masthead: sampleMasthead,
  resubscribeUrl: "https://digest.example.org/manage/sample",
} satisfies GoodbyeEmailProps;

import { Link } from "@react-email/link";
import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/** Sent once the address is confirmed; like every mail to a confirmed reader it can unsubscribe. */
export interface WelcomeEmailProps {
  masthead: Masthead;
  name?: string;
  archiveUrl: string;
  manageUrl: string;
  unsubscribeUrl: string;
}

export default function WelcomeEmail(props: WelcomeEmailProps) {
  const { masthead } = props;
  return (
    <Layout
      masthead={masthead}
      preview={`Welcome to ${masthead.name}`}
      kicker="You are subscribed"
      links={{ manageUrl: props.manageUrl, unsubscribeUrl: props.unsubscribeUrl }}
    >
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {props.name ? `Welcome, ${props.name}!` : "Welcome!"} Your subscription to {masthead.name} is
        confirmed.
        {masthead.tagline ? ` ${masthead.tagline}.` : ""}
      </Text>
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        Past issues are in the{" "}
        <Link
          href={props.archiveUrl}
          style={{ color: colors.accent, textDecoration: "underline" }}
          className="dg-link"
        >
          archive
        </Link>
        .
      </Text>
    </Layout>
  );
}

WelcomeEmail.PreviewProps = {
  masthead: sampleMasthead,
  name: "Aiko",
  archiveUrl: "https://digest.example.org/",
  manageUrl: "https://digest.example.org/manage/sample",
  unsubscribeUrl: "https://digest.example.org/unsubscribe/sample",
} satisfies WelcomeEmailProps;

import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { ActionButton, Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * Double opt-in. It carries no name the reader typed: until the click, we do not know that the
 * person who filled in the form owns this address.
 */
export interface ConfirmEmailProps {
  masthead: Masthead;
  confirmUrl: string;
  /** How the request came in, shown so a reader who did not ask can tell: "the web form", "an email". */
  via: string;
}

export default function ConfirmEmail({ masthead, confirmUrl, via }: ConfirmEmailProps) {
  return (
    <Layout
      masthead={masthead}
      preview={`Confirm your subscription to ${masthead.name}`}
      kicker="Confirm your subscription"
    >
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        Someone, hopefully you, asked to receive {masthead.name} at this address through {via}. Please confirm
        that you want it:
      </Text>
      <ActionButton href={confirmUrl}>Confirm</ActionButton>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        The link works for 7 days. If you did not ask, ignore this mail: nothing will be sent to you.
      </Text>
    </Layout>
  );
}

ConfirmEmail.PreviewProps = {
  masthead: sampleMasthead,
  confirmUrl: "https://digest.example.org/confirm/sample-token",
  via: "the web form",
} satisfies ConfirmEmailProps;

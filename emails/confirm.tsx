import { Text } from "@react-email/text";
import type { Masthead } from "./_components/content.js";
import { ActionButton, Layout, sampleMasthead } from "./_components/layout.js";
import { colors } from "./_components/theme.js";

/**
 * Double opt-in. It carries no name the reader typed: until the click, we do not know that the
 * person who filled in the form owns this address. Its words come filled in, in the reader's
 * language (src/i18n); this file holds only the shape.
 */
export interface ConfirmEmailProps {
  masthead: Masthead;
  confirmUrl: string;
  lang: string;
  text: {
    preview: string;
    kicker: string;
    /** Says how the request came in, so a reader who did not ask can tell ("through the web form"). */
    body: string;
    button: string;
    note: string;
  };
}

export default function ConfirmEmail({ masthead, confirmUrl, lang, text }: ConfirmEmailProps) {
  return (
    <Layout masthead={masthead} lang={lang} preview={text.preview} kicker={text.kicker}>
      <Text className="dg-ink" style={{ fontSize: "16px", lineHeight: "26px", color: colors.ink }}>
        {text.body}
      </Text>
      <ActionButton href={confirmUrl}>{text.button}</ActionButton>
      <Text className="dg-muted" style={{ fontSize: "14px", lineHeight: "22px", color: colors.muted }}>
        {text.note}
      </Text>
    </Layout>
  );
}

ConfirmEmail.PreviewProps = {
  masthead: sampleMasthead,
  confirmUrl: "https://digest.example.org/confirm/sample-token",
  lang: "en",
  text: {
    preview: "Confirm your subscription to US-Japan Alliance Digest",
    kicker: "Confirm your subscription",
    body: "Someone, hopefully you, asked to receive US-Japan Alliance Digest at this address through the web form. Please confirm that you want it:",
    button: "Confirm",
    note: "The link works for 7 days. If you did not ask, ignore this mail: nothing will be sent to you.",
  },
} satisfies ConfirmEmailProps;

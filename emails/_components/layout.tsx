import { Body } from "@react-email/body";
import { Button } from "@react-email/button";
import { Container } from "@react-email/container";
import { Head } from "@react-email/head";
import { Heading } from "@react-email/heading";
import { Hr } from "@react-email/hr";
import { Html } from "@react-email/html";
import { Link } from "@react-email/link";
import { Preview } from "@react-email/preview";
import { Section } from "@react-email/section";
import { Text } from "@react-email/text";
import type { CSSProperties, ReactNode } from "react";
import type { Masthead } from "./content.js";
import { colors, darkModeCss, fontStackFor, printCss } from "./theme.js";

const small: CSSProperties = {
  fontSize: "13px",
  lineHeight: "20px",
  color: colors.muted,
  margin: "0 0 10px",
};
const footerLink: CSSProperties = { color: colors.muted, textDecoration: "underline" };

export interface FooterLinks {
  unsubscribeUrl?: string;
  manageUrl?: string;
  viewUrl?: string;
}

/** The footer's link texts, in the mail's language (transactional mail passes its reader's). */
export interface FooterLabels {
  viewInBrowser: string;
  manage: string;
  unsubscribe: string;
}

/** The issue's own footer: an issue is in the language its staff wrote it in. */
export const issueFooterLabels: FooterLabels = {
  viewInBrowser: "View in browser",
  manage: "Manage your subscription",
  unsubscribe: "Unsubscribe",
};

/**
 * The frame every mail shares: masthead band, white card, footer with the newsletter's details.
 * The newsletter's name is the mail's one h1 (stories are h2 under it), and `title` names the
 * document for screen readers and the browser tab of the web version (default: the preview text).
 */
export function Layout(props: {
  masthead: Masthead;
  title?: string;
  preview?: string;
  kicker?: string;
  links?: FooterLinks;
  /** The mail's language, on its root element; English when absent. */
  lang?: string;
  footerLabels?: FooterLabels;
  children: ReactNode;
}) {
  const { masthead, links = {}, lang = "en", footerLabels: labels = issueFooterLabels } = props;
  return (
    <Html lang={lang}>
      <Head>
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <title>{props.title ?? props.preview ?? masthead.name}</title>
        <style>{darkModeCss + printCss}</style>
      </Head>
      {props.preview ? <Preview>{props.preview}</Preview> : null}
      <Body
        className="dg-page"
        style={{ backgroundColor: colors.page, margin: 0, padding: "24px 0", fontFamily: fontStackFor(lang) }}
      >
        <Container style={{ maxWidth: "600px", width: "100%", margin: "0 auto" }}>
          <Section className="dg-band" style={{ backgroundColor: colors.band, padding: "22px 32px" }}>
            <Heading
              as="h1"
              style={{
                color: colors.bandInk,
                fontSize: "22px",
                fontWeight: 700,
                lineHeight: "28px",
                margin: 0,
              }}
            >
              {masthead.name}
            </Heading>
            {props.kicker ? (
              <Text style={{ color: "#c9d3dd", fontSize: "14px", lineHeight: "20px", margin: "4px 0 0" }}>
                {props.kicker}
              </Text>
            ) : null}
          </Section>
          <Section className="dg-card" style={{ backgroundColor: colors.card, padding: "28px 32px 12px" }}>
            {props.children}
          </Section>
          <Section className="dg-card" style={{ backgroundColor: colors.card, padding: "0 32px 28px" }}>
            <Hr className="dg-rule" style={{ borderColor: colors.rule, margin: "8px 0 20px" }} />
            <Text className="dg-muted" style={small}>
              {masthead.footer}
            </Text>
            <LinkRow items={masthead.social.map((s) => ({ href: s.url, label: s.label }))} />
            <Text className="dg-muted" style={small}>
              {masthead.postalAddress}
            </Text>
            <LinkRow
              className="dg-noprint"
              items={[
                links.viewUrl ? { href: links.viewUrl, label: labels.viewInBrowser } : undefined,
                links.manageUrl ? { href: links.manageUrl, label: labels.manage } : undefined,
                links.unsubscribeUrl ? { href: links.unsubscribeUrl, label: labels.unsubscribe } : undefined,
              ]}
            />
          </Section>
        </Container>
      </Body>
    </Html>
  );
}

/** One footer line of links separated by middle dots; absent items are left out. */
function LinkRow(props: { items: Array<{ href: string; label: string } | undefined>; className?: string }) {
  const items = props.items.filter((x) => x !== undefined);
  if (items.length === 0) return null;
  return (
    <Text className={props.className ? `dg-muted ${props.className}` : "dg-muted"} style={small}>
      {items.map((item, i) => (
        <span key={item.label}>
          {i > 0 ? " · " : ""}
          <Link href={item.href} style={footerLink} className="dg-muted">
            {item.label}
          </Link>
        </span>
      ))}
    </Text>
  );
}

export const sampleMasthead: Masthead = {
  name: "US-Japan Alliance Digest",
  tagline: "A bi-weekly summary of bilateral and related developments",
  publisher: "Sasakawa USA",
  postalAddress: "Sasakawa USA, 1819 L Street NW, Suite 300, Washington, DC 20036, USA",
  footer:
    "“US-Japan Alliance Digest” is a bi-weekly summary of bilateral and related developments compiled by Sasakawa USA’s “US-Japan NEXT Alliance Initiative.”",
  contact: "egulum@spfusa.org",
  social: [{ label: "Twitter", url: "https://twitter.com/SasakawaUSA" }],
};

/** The one call to action of a transactional mail (confirm, unsubscribe-link): a button in its own section. */
export function ActionButton({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Section style={{ margin: "8px 0 24px" }}>
      <Button
        href={href}
        style={{
          backgroundColor: colors.accent,
          color: colors.accentInk,
          padding: "12px 20px",
          borderRadius: "4px",
          fontWeight: 600,
        }}
      >
        {children}
      </Button>
    </Section>
  );
}

import { Button } from "@react-email/button";
import { Heading } from "@react-email/heading";
import { Link } from "@react-email/link";
import { Section } from "@react-email/section";
import { Text } from "@react-email/text";
import type { Block, Masthead, Story } from "./_components/content.js";
import { Layout, sampleMasthead } from "./_components/layout.js";
import { placeholders } from "./_components/placeholders.js";
import { Blocks } from "./_components/rich-text.js";
import { colors } from "./_components/theme.js";

export interface IssueEmailProps {
  masthead: Masthead;
  /** The issue's subject: the document's title (the web version's browser tab, screen readers). */
  subject?: string;
  /** "Vol 2.6" */
  volumeLabel: string;
  /** Human date, e.g. "April 3, 2023". */
  dateLabel: string;
  preheader?: string;
  pdfUrl?: string;
  intro: Block[];
  stories: Story[];
}

/** One edition: the headline list first (each linking to its story), then the stories, then the footer. */
export default function IssueEmail(props: IssueEmailProps) {
  const { masthead, stories } = props;
  return (
    <Layout
      masthead={masthead}
      title={props.subject ?? `${masthead.name} ${props.volumeLabel}`}
      preview={props.preheader}
      kicker={`${props.volumeLabel} · ${props.dateLabel}`}
      links={{
        viewUrl: placeholders.viewUrl,
        manageUrl: placeholders.manageUrl,
        unsubscribeUrl: placeholders.unsubscribeUrl,
      }}
    >
      {props.intro.length > 0 ? <Blocks blocks={props.intro} /> : null}
      <Heading
        as="h2"
        className="dg-muted"
        style={{
          fontSize: "13px",
          letterSpacing: "0.08em",
          textTransform: "uppercase",
          color: colors.muted,
          margin: "0 0 10px",
        }}
      >
        Headlines
      </Heading>
      <ol style={{ margin: "0 0 24px", paddingLeft: "22px" }}>
        {stories.map((story) => (
          <li
            key={story.id}
            style={{ fontSize: "16px", lineHeight: "24px", margin: "0 0 8px", color: colors.ink }}
            className="dg-ink"
          >
            <Link
              href={`#${story.id}`}
              style={{ color: colors.accent, textDecoration: "none", fontWeight: 600 }}
              className="dg-link"
            >
              {story.headline}
            </Link>
          </li>
        ))}
      </ol>
      {props.pdfUrl ? (
        <Section className="dg-noprint" style={{ margin: "0 0 28px" }}>
          <Button
            href={props.pdfUrl}
            style={{
              backgroundColor: colors.accent,
              color: colors.accentInk,
              fontSize: "15px",
              fontWeight: 600,
              padding: "12px 20px",
              borderRadius: "4px",
              textDecoration: "none",
            }}
          >
            Download this issue (PDF)
          </Button>
        </Section>
      ) : null}
      {stories.map((story) => (
        <Section key={story.id} style={{ margin: "0 0 8px" }}>
          <Heading
            as="h2"
            id={story.id}
            className="dg-ink dg-title dg-rule"
            style={{
              fontSize: "21px",
              lineHeight: "28px",
              margin: "8px 0 10px",
              color: colors.ink,
              borderTop: `1px solid ${colors.rule}`,
              paddingTop: "20px",
            }}
          >
            {story.headline}
          </Heading>
          <Blocks blocks={story.body} />
        </Section>
      ))}
      <Text className="dg-muted" style={{ fontSize: "13px", color: colors.muted, margin: "8px 0 16px" }}>
        You receive this because {placeholders.email} subscribed to {masthead.name}.
      </Text>
    </Layout>
  );
}

IssueEmail.PreviewProps = {
  masthead: sampleMasthead,
  subject: "US-Japan Alliance Digest Vol 2.6: critical minerals deal, anti-coercion coalition",
  volumeLabel: "Vol 2.6",
  dateLabel: "April 3, 2023",
  preheader: "US and Japan sign a critical minerals deal, and more",
  pdfUrl: "https://example.org/vol-2-6.pdf",
  intro: [],
  stories: [
    {
      id: "us-and-japan-sign-deal-on-critical-minerals-boosting-supply-for-evs",
      headline: "US and Japan sign deal on critical minerals, boosting supply for EVs",
      body: [
        {
          kind: "paragraph",
          children: [
            {
              kind: "text",
              text: "US Trade Representative Katherine Tai and Japanese Ambassador Koji Tomita signed a critical minerals supply chain agreement on March 28.",
            },
          ],
        },
      ],
    },
    {
      id: "the-philippines-getting-us-japan-help-to-contain-oil-spill",
      headline: "The Philippines getting US-Japan help to contain oil spill",
      body: [
        {
          kind: "paragraph",
          children: [{ kind: "text", text: "The Philippine Coast Guard (PCG) detailed their efforts." }],
        },
      ],
    },
  ],
} satisfies IssueEmailProps;

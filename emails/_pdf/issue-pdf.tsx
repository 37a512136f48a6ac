import { Document, Link, Page, Text, View } from "@react-pdf/renderer";
import type { Block, Masthead, Story } from "../_components/content.js";
import { PdfBlocks } from "./rich-text.js";
import { styles } from "./styles.js";

export type Paper = "A4" | "LETTER";

export interface IssuePdfProps {
  masthead: Masthead;
  /** "Vol 2.6" */
  volumeLabel: string;
  /** Human date, e.g. "April 3, 2023". */
  dateLabel: string;
  /** The issue's subject: the document's title in the reader's PDF viewer. */
  subject: string;
  /**
   * The document's creation date. The issue's own date rather than the clock: the same issue then
   * gives the same bytes (and the same ETag) whenever it is rendered.
   */
  issuedAt: Date;
  paper: Paper;
  intro: Block[];
  stories: Story[];
}

/**
 * The PDF edition of one issue: masthead, the headline list (each entry jumps to its story), the
 * stories, then the publisher's blurb and address. Every page carries the issue's name and its
 * page number. It is made from the same parsed issue as the email, so the two never drift.
 */
export default function IssuePdf(props: IssuePdfProps) {
  const { masthead, stories } = props;
  const issueName = `${masthead.name} · ${props.volumeLabel}`;
  return (
    <Document
      title={props.subject}
      author={masthead.publisher ?? masthead.name}
      subject={`${issueName}, ${props.dateLabel}`}
      creator="Digest"
      producer="Digest"
      language="en"
      creationDate={props.issuedAt}
      modificationDate={props.issuedAt}
    >
      <Page size={props.paper} style={styles.page}>
        <View style={styles.masthead}>
          <Text style={styles.name}>{masthead.name}</Text>
          {masthead.tagline ? <Text style={styles.tagline}>{masthead.tagline}</Text> : null}
        </View>
        <View style={styles.dateline}>
          <Text>
            <Text style={styles.datelineStrong}>{props.volumeLabel.toUpperCase()}</Text>
            {masthead.publisher ? `   ${masthead.publisher}` : ""}
          </Text>
          <Text>{props.dateLabel}</Text>
        </View>

        {props.intro.length > 0 ? <PdfBlocks blocks={props.intro} /> : null}

        <View style={styles.contents}>
          <Text style={styles.sectionLabel}>IN THIS ISSUE</Text>
          {stories.map((story, i) => (
            <View key={story.id} style={styles.contentsItem}>
              <Text style={styles.contentsNumber}>{i + 1}</Text>
              <Link src={`#${story.id}`} style={styles.contentsLink}>
                {story.headline}
              </Link>
            </View>
          ))}
        </View>

        {stories.map((story, i) => (
          <View key={story.id} style={styles.story}>
            {/* A headline never ends a page alone: it moves on, with its rule, unless a few lines of
                its story fit below it. */}
            {/* The link target sits here, not on the story: a story that runs over pages would
                take its target to its last page. */}
            <View id={story.id} wrap={false} minPresenceAhead={48}>
              {i > 0 ? <View style={styles.storyRule} /> : null}
              <Text style={styles.headline}>{story.headline}</Text>
            </View>
            <PdfBlocks blocks={story.body} />
          </View>
        ))}

        <View style={styles.colophon} wrap={false}>
          <Text style={styles.colophonName}>{masthead.name}</Text>
          <Text style={styles.colophonLine}>{masthead.footer}</Text>
          {masthead.publisher ? (
            <Text style={styles.colophonLine}>Published by {masthead.publisher}</Text>
          ) : null}
          <Text style={styles.colophonLine}>{masthead.postalAddress}</Text>
          <ContactLine masthead={masthead} />
        </View>

        <View style={styles.footer} fixed>
          <Text>{issueName}</Text>
          <Text render={({ pageNumber, totalPages }) => `Page ${pageNumber} of ${totalPages}`} />
        </View>
      </Page>
    </Document>
  );
}

/** Contact, website and social links on one line, each a link. */
function ContactLine({ masthead }: { masthead: Masthead }) {
  const items = [
    masthead.contact ? { label: masthead.contact, href: `mailto:${masthead.contact}` } : undefined,
    masthead.website
      ? { label: masthead.website.replace(/^https?:\/\//, ""), href: masthead.website }
      : undefined,
    ...masthead.social.map((s) => ({ label: s.label, href: s.url })),
  ].filter((x) => x !== undefined);
  if (items.length === 0) return null;
  return (
    <Text style={styles.colophonLine}>
      {items.map((item, i) => (
        <Text key={item.href}>
          {i > 0 ? "  ·  " : ""}
          <Link src={item.href} style={styles.link}>
            {item.label}
          </Link>
        </Text>
      ))}
    </Text>
  );
}

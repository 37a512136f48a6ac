import { Heading } from "@react-email/heading";
import { Img } from "@react-email/img";
import { Link } from "@react-email/link";
import { Text } from "@react-email/text";
import type { CSSProperties, ReactNode } from "react";
import type { Block, Inline } from "./content.js";
import { colors } from "./theme.js";

const paragraph: CSSProperties = {
  fontSize: "16px",
  lineHeight: "26px",
  margin: "0 0 16px",
  color: colors.ink,
};
const linkStyle: CSSProperties = { color: colors.accent, textDecoration: "underline" };
/** Code keeps its light box in light mode; in dark mode `dg-code` darkens box and text together. */
const codeStyle: CSSProperties = {
  color: colors.ink,
  fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
  fontSize: "14px",
  backgroundColor: "#eef0f3",
  padding: "1px 4px",
  borderRadius: "3px",
};

export function InlineText({ nodes }: { nodes: Inline[] }): ReactNode {
  return nodes.map((node, i) => {
    const key = `${node.kind}-${i}`;
    switch (node.kind) {
      case "text":
        return node.text;
      case "strong":
        return (
          <strong key={key}>
            <InlineText nodes={node.children} />
          </strong>
        );
      case "em":
        return (
          <em key={key}>
            <InlineText nodes={node.children} />
          </em>
        );
      case "del":
        return (
          <del key={key}>
            <InlineText nodes={node.children} />
          </del>
        );
      case "link":
        return (
          <Link key={key} href={node.href} style={linkStyle} className="dg-link">
            <InlineText nodes={node.children} />
          </Link>
        );
      case "code":
        return (
          <code key={key} style={codeStyle} className="dg-code">
            {node.text}
          </code>
        );
      case "break":
        return <br key={key} />;
      case "image":
        return (
          <Img
            key={key}
            src={node.src}
            alt={node.alt}
            style={{ maxWidth: "100%", height: "auto", display: "block", margin: "8px 0" }}
          />
        );
      default:
        return null;
    }
  });
}

export function Blocks({ blocks }: { blocks: Block[] }): ReactNode {
  return blocks.map((block, i) => {
    const key = `${block.kind}-${i}`;
    switch (block.kind) {
      case "paragraph":
        return (
          <Text key={key} style={paragraph} className="dg-ink">
            <InlineText nodes={block.children} />
          </Text>
        );
      case "heading":
        return (
          <Heading
            key={key}
            as="h3"
            style={{ fontSize: "17px", margin: "20px 0 8px", color: colors.ink }}
            className="dg-ink"
          >
            <InlineText nodes={block.children} />
          </Heading>
        );
      case "list": {
        const Tag = block.ordered ? "ol" : "ul";
        return (
          <Tag
            key={key}
            style={{ margin: "0 0 16px", paddingLeft: "24px", color: colors.ink }}
            className="dg-ink"
          >
            {block.items.map((item, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity beyond their place
              <li key={j} style={{ fontSize: "16px", lineHeight: "26px", margin: "0 0 6px" }}>
                <Blocks blocks={item} />
              </li>
            ))}
          </Tag>
        );
      }
      case "quote":
        return (
          <blockquote
            key={key}
            style={{ margin: "0 0 16px", padding: "0 0 0 14px", borderLeft: `3px solid ${colors.rule}` }}
            className="dg-rule"
          >
            <Blocks blocks={block.children} />
          </blockquote>
        );
      case "code":
        return (
          <pre
            key={key}
            style={{ ...codeStyle, display: "block", padding: "12px", whiteSpace: "pre-wrap" }}
            className="dg-code"
          >
            {block.text}
          </pre>
        );
      case "rule":
        return (
          <hr key={key} style={{ border: "none", borderTop: `1px solid ${colors.rule}`, margin: "24px 0" }} />
        );
      default:
        return null;
    }
  });
}

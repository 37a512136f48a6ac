import { Link, Text, View } from "@react-pdf/renderer";
import type { ReactNode } from "react";
import type { Block, Inline } from "../_components/content.js";
import { muted, styles } from "./styles.js";

/** Inline content inside one PDF `Text`: nested runs, so links stay clickable annotations. */
export function PdfInline({ nodes }: { nodes: Inline[] }): ReactNode {
  return nodes.map((node, i) => {
    const key = `${node.kind}-${i}`;
    switch (node.kind) {
      case "text":
        return node.text;
      case "strong":
        return (
          <Text key={key} style={{ fontWeight: 700 }}>
            <PdfInline nodes={node.children} />
          </Text>
        );
      case "em":
        // The embedded family has no italic; an upright run reads better than a fake slant.
        return (
          <Text key={key}>
            <PdfInline nodes={node.children} />
          </Text>
        );
      case "del":
        return (
          <Text key={key} style={{ textDecoration: "line-through" }}>
            <PdfInline nodes={node.children} />
          </Text>
        );
      case "link":
        return (
          <Link key={key} src={node.href} style={styles.link}>
            <PdfInline nodes={node.children} />
          </Link>
        );
      case "code":
        return (
          <Text key={key} style={styles.code}>
            {node.text}
          </Text>
        );
      case "break":
        return "\n";
      case "image":
        // Rendering never fetches from the network (it must be quick and the same every time), so a
        // remote picture is shown by its alt text.
        return (
          <Text key={key} style={{ color: muted }}>
            [{node.alt || "image"}]
          </Text>
        );
      default:
        return null;
    }
  });
}

export function PdfBlocks({ blocks }: { blocks: Block[] }): ReactNode {
  return blocks.map((block, i) => {
    const key = `${block.kind}-${i}`;
    switch (block.kind) {
      case "paragraph":
        return (
          <Text key={key} style={styles.paragraph}>
            <PdfInline nodes={block.children} />
          </Text>
        );
      case "heading":
        return (
          <Text key={key} style={styles.subheading} minPresenceAhead={40}>
            <PdfInline nodes={block.children} />
          </Text>
        );
      case "list":
        return (
          <View key={key} style={{ marginBottom: 6 }}>
            {block.items.map((item, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity beyond their place
              <View key={j} style={styles.listItem}>
                <Text style={styles.bullet}>{block.ordered ? `${j + 1}.` : "•"}</Text>
                <View style={styles.listBody}>
                  <PdfBlocks blocks={item} />
                </View>
              </View>
            ))}
          </View>
        );
      case "quote":
        return (
          <View key={key} style={styles.quote}>
            <PdfBlocks blocks={block.children} />
          </View>
        );
      case "code":
        return (
          <Text key={key} style={styles.codeBlock}>
            {block.text}
          </Text>
        );
      case "rule":
        return <View key={key} style={styles.hr} />;
      default:
        return null;
    }
  });
}

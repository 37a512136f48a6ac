import { StyleSheet } from "@react-pdf/renderer";
import { colors } from "../_components/theme.js";

/**
 * The PDF edition's typography, in points. One family (registered by the renderer) carries Latin
 * and Japanese alike, so a line mixing both keeps one x-height and one baseline.
 */
export const pdfFontFamily = "Noto Sans JP";

export const ink = colors.ink;
export const muted = colors.muted;
export const accent = colors.accent;
export const band = colors.band;
export const rule = colors.rule;

const bodySize = 10.5;

export const styles = StyleSheet.create({
  page: {
    fontFamily: pdfFontFamily,
    fontSize: bodySize,
    color: ink,
    paddingTop: 50,
    paddingBottom: 68,
    paddingHorizontal: 62,
  },
  masthead: { backgroundColor: band, paddingVertical: 20, paddingHorizontal: 22, marginBottom: 0 },
  name: { color: "#ffffff", fontSize: 25, fontWeight: 700, lineHeight: 1.2 },
  tagline: { color: "#c9d3dd", fontSize: 10, marginTop: 4, lineHeight: 1.3 },
  dateline: {
    flexDirection: "row",
    justifyContent: "space-between",
    borderBottomWidth: 0.75,
    borderBottomColor: ink,
    paddingVertical: 6,
    marginBottom: 20,
    fontSize: 9,
    letterSpacing: 0.6,
    color: ink,
  },
  datelineStrong: { fontWeight: 700, color: accent },
  sectionLabel: {
    fontSize: 8.5,
    fontWeight: 700,
    letterSpacing: 1.2,
    color: muted,
    marginBottom: 6,
  },
  contents: {
    backgroundColor: "#f5f6f8",
    borderLeftWidth: 3,
    borderLeftColor: accent,
    paddingVertical: 12,
    paddingHorizontal: 16,
    marginBottom: 22,
  },
  contentsItem: { flexDirection: "row", marginBottom: 6 },
  contentsNumber: { width: 18, fontSize: bodySize, fontWeight: 700, lineHeight: 1.4, color: accent },
  contentsLink: {
    flex: 1,
    fontSize: bodySize,
    color: ink,
    textDecoration: "none",
    fontWeight: 700,
    lineHeight: 1.4,
  },
  story: { marginBottom: 6 },
  storyRule: { borderTopWidth: 0.75, borderTopColor: rule, marginBottom: 12 },
  headline: { fontSize: 14, fontWeight: 700, lineHeight: 1.3, color: band, marginBottom: 8 },
  // Each text style names its size beside its line height: react-pdf 4.9 resolves a line height
  // against the style's own size (18 pt when none), and one on the page drops the fixed footer.
  paragraph: { fontSize: bodySize, lineHeight: 1.55, marginBottom: 9 },
  subheading: { fontSize: 11.5, fontWeight: 700, lineHeight: 1.35, marginTop: 6, marginBottom: 5 },
  link: { color: accent, textDecoration: "underline" },
  code: { fontSize: 9.5, backgroundColor: "#eef0f3" },
  codeBlock: { fontSize: 9, backgroundColor: "#eef0f3", padding: 8, marginBottom: 9, lineHeight: 1.4 },
  quote: { borderLeftWidth: 2, borderLeftColor: rule, paddingLeft: 10, marginBottom: 9, color: muted },
  listItem: { flexDirection: "row", marginBottom: 4 },
  bullet: { width: 16, fontSize: bodySize, lineHeight: 1.55 },
  listBody: { flex: 1 },
  hr: { borderTopWidth: 0.75, borderTopColor: rule, marginVertical: 12 },
  colophon: {
    marginTop: 16,
    paddingTop: 12,
    borderTopWidth: 1.5,
    borderTopColor: band,
    fontSize: 8.5,
    color: muted,
  },
  colophonName: { fontSize: 10, fontWeight: 700, lineHeight: 1.4, color: ink, marginBottom: 3 },
  colophonLine: { fontSize: 8.5, lineHeight: 1.5, marginBottom: 4 },
  footer: {
    position: "absolute",
    left: 62,
    right: 62,
    bottom: 30,
    flexDirection: "row",
    justifyContent: "space-between",
    borderTopWidth: 0.5,
    borderTopColor: rule,
    paddingTop: 6,
    fontSize: 8,
    color: muted,
  },
});

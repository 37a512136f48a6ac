/** Colours chosen to read well in light mode and to survive clients that invert them in dark mode. */
export const colors = {
  page: "#f3f4f6",
  card: "#ffffff",
  ink: "#1f2933",
  muted: "#52606d",
  rule: "#d9dee3",
  accent: "#9b1c31",
  accentInk: "#ffffff",
  band: "#12263a",
  bandInk: "#ffffff",
};

export const fontStack =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/**
 * Japanese mail: Hiragino on Apple devices, Yu Gothic or Meiryo on Windows, Noto Sans CJK JP on
 * Android and Linux. Latin letters still come from the system face that precedes them; kana and
 * kanji fall through to the first Japanese face present (a mail client's default CJK face may be
 * a Chinese one without this).
 */
export const japaneseFontStack =
  "-apple-system, BlinkMacSystemFont, 'Hiragino Sans', 'Hiragino Kaku Gothic ProN', 'Segoe UI', 'Yu Gothic UI', 'Yu Gothic', Meiryo, 'Noto Sans JP', 'Noto Sans CJK JP', Roboto, sans-serif";

export function fontStackFor(lang: string): string {
  return lang === "ja" ? japaneseFontStack : fontStack;
}

/**
 * Dark-mode rules for clients that honour prefers-color-scheme (Apple Mail, iOS, some Outlooks).
 * Inline styles carry the light theme; these override them only where the client asks for dark.
 */
export const darkModeCss = `
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .dg-page, .dg-page > table > tbody > tr > td { background-color: #0f1418 !important; }
  .dg-card { background-color: #1a2128 !important; }
  .dg-ink { color: #e4e7eb !important; }
  .dg-muted { color: #9aa5b1 !important; }
  .dg-link { color: #f08a9b !important; }
  .dg-rule { border-color: #323f4b !important; }
  .dg-code { background-color: #27313b !important; color: #e4e7eb !important; }
}
@media only screen and (max-width: 620px) {
  .dg-card { padding-left: 18px !important; padding-right: 18px !important; }
  .dg-title { font-size: 19px !important; line-height: 25px !important; }
}
`;

/**
 * The web version (`/archive/<slug>`) is this same HTML, and people print it: on paper there is
 * nothing to click, and browsers drop background colours, which would leave the masthead's white
 * name on white paper.
 */
export const printCss = `
@media print {
  .dg-page, .dg-page > table > tbody > tr > td { background-color: #ffffff !important; padding: 0 !important; }
  .dg-band { background-color: #ffffff !important; border-bottom: 2px solid #12263a; padding-left: 0 !important; }
  .dg-band h1, .dg-band p { color: #12263a !important; }
  .dg-card { padding-left: 0 !important; padding-right: 0 !important; }
  .dg-noprint { display: none !important; }
  h2 { break-after: avoid; page-break-after: avoid; }
  p { orphans: 3; widows: 3; }
}
`;

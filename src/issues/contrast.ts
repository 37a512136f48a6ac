/**
 * WCAG 2.x colour contrast: relative luminance of an sRGB colour and the ratio of two, as the
 * success criterion 1.4.3 defines them (https://www.w3.org/TR/WCAG22/#dfn-relative-luminance).
 * Body text needs at least 4.5:1.
 */
export const minimumTextContrast = 4.5;

export type Rgb = readonly [number, number, number];

/**
 * `#rgb`, `#rrggbb`, `rgb(r, g, b)` (alpha ignored) or a few names; undefined for anything else
 * (`inherit`, gradients, `var(...)`), which a caller treats as "not a colour we can judge".
 */
export function parseColour(value: string): Rgb | undefined {
  const v = value
    .trim()
    .toLowerCase()
    .replace(/\s*!important$/, "");
  const named: Record<string, Rgb> = { white: [255, 255, 255], black: [0, 0, 0] };
  if (named[v]) return named[v];
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(v);
  if (short)
    return [short[1], short[2], short[3]].map((h) => Number.parseInt(`${h}${h}`, 16)) as unknown as Rgb;
  const long = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(v);
  if (long) return [long[1], long[2], long[3]].map((h) => Number.parseInt(h as string, 16)) as unknown as Rgb;
  const rgb = /^rgba?\(\s*(\d{1,3})\s*[, ]\s*(\d{1,3})\s*[, ]\s*(\d{1,3})\s*(?:[,/]\s*[\d.]+%?\s*)?\)$/.exec(
    v,
  );
  if (rgb) {
    const channels = [rgb[1], rgb[2], rgb[3]].map(Number);
    if (channels.every((c) => c <= 255)) return channels as unknown as Rgb;
  }
  return undefined;
}

/** The relative luminance: 0 for black, 1 for white. */
export function relativeLuminance([r, g, b]: Rgb): number {
  const linear = (channel: number) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** (L1 + 0.05) / (L2 + 0.05) with L1 the lighter: 1 (same colour) to 21 (black on white). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [
    number,
    number,
  ];
  return (light + 0.05) / (dark + 0.05);
}

export function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

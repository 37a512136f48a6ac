import { describe, expect, it } from "vitest";
import { contrastRatio, parseColour, relativeLuminance } from "../../src/issues/contrast.js";

/** Figures from WCAG's definition and the usual reference checkers (WebAIM), to two decimals. */
const ratios: Array<[string, string, number]> = [
  ["#000000", "#ffffff", 21],
  ["#ffffff", "#ffffff", 1],
  ["#777777", "#ffffff", 4.48],
  ["#767676", "#ffffff", 4.54],
  ["#ffffff", "#0000ff", 8.59],
  ["#ff0000", "#ffffff", 4],
  ["#1f8a4c", "#e3f4ea", 3.83],
  ["#e4e7eb", "#eef0f3", 1.09],
  ["#f08a9b", "#1a2128", 6.82],
  ["#9b1c31", "#fff", 8.06],
];

describe("WCAG contrast", () => {
  it.each(ratios)("%s on %s is %d:1", (foreground, background, ratio) => {
    expect(contrastRatio(parseColour(foreground)!, parseColour(background)!)).toBeCloseTo(ratio, 2);
  });

  it("is the same whichever colour is the text", () => {
    expect(contrastRatio([119, 119, 119], [255, 255, 255])).toBe(
      contrastRatio([255, 255, 255], [119, 119, 119]),
    );
  });

  it("gives black a luminance of 0, white 1, and pure red 0.2126", () => {
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([255, 255, 255])).toBeCloseTo(1, 10);
    expect(relativeLuminance([255, 0, 0])).toBeCloseTo(0.2126, 10);
  });

  it("reads #rgb, #rrggbb, rgb() and rgba(), with !important, and nothing it cannot judge", () => {
    expect(parseColour("#fff")).toEqual([255, 255, 255]);
    expect(parseColour(" #1F2933 ")).toEqual([31, 41, 51]);
    expect(parseColour("rgb(31, 41, 51)")).toEqual([31, 41, 51]);
    expect(parseColour("rgba(31,41,51,0.5)")).toEqual([31, 41, 51]);
    expect(parseColour("#e4e7eb !important")).toEqual([228, 231, 235]);
    expect(parseColour("white")).toEqual([255, 255, 255]);
    for (const unknown of ["inherit", "var(--ink)", "#12", "rgb(300, 0, 0)", "linear-gradient(red, blue)"])
      expect(parseColour(unknown)).toBeUndefined();
  });
});

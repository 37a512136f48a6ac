/**
 * The content as templates receive it: a small, closed tree that the Markdown parser in
 * src/issues produces. Text is always data here; nothing becomes raw HTML.
 */
export type Inline =
  | { kind: "text"; text: string }
  | { kind: "strong" | "em" | "del"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] }
  | { kind: "code"; text: string }
  | { kind: "break" }
  | { kind: "image"; src: string; alt: string };

export type Block =
  | { kind: "paragraph"; children: Inline[] }
  | { kind: "heading"; children: Inline[] }
  | { kind: "list"; ordered: boolean; items: Block[][] }
  | { kind: "quote"; children: Block[] }
  | { kind: "code"; text: string }
  | { kind: "rule" };

export interface Story {
  /** The in-message anchor (`#id`) the headline list links to. */
  id: string;
  headline: string;
  body: Block[];
}

export interface SocialLink {
  label: string;
  url: string;
}

/** What every mail's masthead and footer show: the newsletter file's settings. */
export interface Masthead {
  name: string;
  tagline?: string;
  publisher?: string;
  website?: string;
  postalAddress: string;
  footer: string;
  contact?: string;
  social: SocialLink[];
}

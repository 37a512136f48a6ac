/**
 * Text bound for a terminal that quotes what others wrote (a DNS record, a relay's answer, a
 * receiving server's diagnostic): a control character, such as an ANSI escape that would rewrite
 * the terminal or its title, is shown as `\xNN`, never sent. One line in, one line out.
 */
export const visibleText = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must not reach the terminal
  text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

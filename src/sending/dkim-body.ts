import type { Hash } from "node:crypto";

/**
 * RFC 6376 §3.4.4 relaxed body canonicalisation, fed straight into a hash from the message's
 * bytes: no string of the body, no copy of it. Our bodies are quoted-printable and mostly need no
 * change at all, so the few places that do (a tab, a run of blanks, a blank before a line end) are
 * found with native searches and the spans between them are hashed as they are.
 *
 * The body must have CRLF line ends only (what the SMTP session sends: see `crlfOnly`).
 */
const space = Buffer.from(" ");
const crlf = Buffer.from("\r\n");
const blanks = Buffer.from("  ");
const blankBeforeLineEnd = Buffer.from(" \r");

export const isBlank = (byte: number | undefined) => byte === 0x20 || byte === 0x09;

export function hashRelaxedBody(hash: Hash, body: Buffer): void {
  relaxedBody(body, true, (piece) => hash.update(piece));
}

/**
 * The canonical form of `body` in pieces, handed to `emit` in order. `whole`: this is the whole
 * body, whose empty lines and blanks at the end go; otherwise a stretch of it that neither starts
 * nor ends inside a run of blanks or a line end (template runs, checked by dkim-template.ts).
 */
export function relaxedBody(body: Buffer, whole: boolean, emit: (piece: Buffer) => void): void {
  // Empty lines at the end are ignored, and so are blanks at the end of the last line: the body
  // ends after its last byte that is neither a blank nor a line end.
  let end = body.length;
  if (whole)
    while (end > 0 && (isBlank(body[end - 1]) || body[end - 1] === 0x0d || body[end - 1] === 0x0a)) end--;
  if (end === 0) return; // an empty body is nothing at all
  const region = body.subarray(0, end);
  const next = (what: number | Buffer, from: number) => {
    const at = region.indexOf(what, from);
    return at === -1 ? end : at;
  };
  let tab = next(0x09, 0);
  let run = next(blanks, 0);
  let trailing = next(blankBeforeLineEnd, 0);
  let from = 0;
  for (;;) {
    const at = Math.min(tab, run, trailing);
    if (at >= end) break;
    // The whole run of blanks around `at` (a tab may follow spaces): one space, or none before a
    // line end. Never past `end`, whose last byte is not a blank.
    let start = at;
    while (start > from && isBlank(region[start - 1])) start--;
    let stop = at + 1;
    while (isBlank(region[stop])) stop++;
    if (start > from) emit(region.subarray(from, start));
    if (region[stop] !== 0x0d && stop < end) emit(space);
    from = stop;
    if (tab < from) tab = next(0x09, from);
    if (run < from) run = next(blanks, from);
    if (trailing < from) trailing = next(blankBeforeLineEnd, from);
  }
  if (from < end) emit(region.subarray(from));
  if (whole) emit(crlf);
}

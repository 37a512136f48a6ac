import { createHash, type Hash } from "node:crypto";
import { isBlank, relaxedBody } from "./dkim-body.js";
import type { MessageTemplate, SplicedParts } from "./template.js";

/**
 * The body hash of a spliced message from its template (template.ts): the static runs are
 * canonicalised once per template, the hash of the body up to the first reader value is kept, and
 * per reader only the values are looked at, so no byte of the 20 KB body is searched again; the
 * hash itself still reads every byte after the first value.
 *
 * Relaxed canonicalisation works on runs of blanks and on line ends, so canonicalising the pieces
 * apart gives the whole's canonical form as long as no run of blanks or CRLF spans two pieces: no
 * run starts or ends with a blank (or starts with LF, or ends with CR) beside a slot, and no value
 * does either. A template or a reader's values that break this take the general path (one pass
 * over the message's bytes), as does a template with other than CRLF line ends.
 */
interface BodyPlan {
  /** The hash after the canonical body up to the first body slot. */
  prefix: Hash;
  /** After each body slot: which value goes there, and the canonical static run that follows it. */
  steps: { value: number; after: Buffer }[];
}

/** `build`'s result for a template, built once per template (a send's template lives as long as its send). */
export function perTemplate<T>(build: (template: MessageTemplate) => T): (template: MessageTemplate) => T {
  const built = new WeakMap<MessageTemplate, T>();
  return (template) => {
    if (built.has(template)) return built.get(template) as T;
    const result = build(template);
    built.set(template, result);
    return result;
  };
}

const headEnd = Buffer.from("\r\n\r\n");

/**
 * Where a template's header block ends: its first blank line in the static bytes with no slot
 * inside it (a header value is never empty, so a slot there means the line is not blank), the
 * offset of its "\r\n\r\n"; -1 when it has none.
 */
export function headerBlockEnd({ bytes, slots }: MessageTemplate): number {
  let split = bytes.indexOf(headEnd);
  while (split !== -1 && slots.some((s) => s.at > split && s.at < split + 4))
    split = bytes.indexOf(headEnd, split + 1);
  return split;
}

const planOf = perTemplate(bodyPlan);

/** The body hash (base64) of the spliced message, or undefined where the general path must do it. */
export function templateBodyHash(parts: SplicedParts): string | undefined {
  const plan = planOf(parts.template);
  if (!plan) return undefined;
  const hash = plan.prefix.copy();
  for (const step of plan.steps) {
    const value = parts.values[step.value] ?? "";
    if (value !== "") {
      if (
        !edgeSafe(value.charCodeAt(0), value.charCodeAt(value.length - 1)) ||
        /[^\x20-\x7e\r\n\t]/.test(value)
      )
        return undefined;
      relaxedBody(Buffer.from(value, "latin1"), false, (piece) => hash.update(piece));
    }
    hash.update(step.after);
  }
  return hash.digest("base64");
}

/** Neither end can join a run of blanks or a CRLF across a piece boundary. */
const edgeSafe = (first: number, last: number) =>
  !isBlank(first) && first !== 0x0a && !isBlank(last) && last !== 0x0d;

function bodyPlan(template: MessageTemplate): BodyPlan | null {
  const { bytes, slots } = template;
  if (!template.plainLines) return null;
  const split = headerBlockEnd(template);
  if (split === -1) return null;
  const bodyStart = split + 4;
  const body = slots.filter((s) => s.at >= bodyStart);
  const runs: Buffer[] = [];
  let from = bodyStart;
  for (const slot of body) {
    runs.push(bytes.subarray(from, slot.at));
    from = slot.at;
  }
  const last = bytes.subarray(from);
  // The last run must hold something besides blanks and line ends, so that the end of the body
  // (whose empty lines and final blanks go) is decided within it.
  if (!last.some((b) => !isBlank(b) && b !== 0x0d && b !== 0x0a)) return null;
  for (const [i, run] of runs.entries())
    if (run.length > 0 && !edgeSafe(i === 0 ? 0x41 : (run[0] as number), run[run.length - 1] as number))
      return null;
  if (body.length > 0 && last.length > 0 && !edgeSafe(last[0] as number, 0x41)) return null;
  const canonical = (run: Buffer, whole: boolean) => {
    const pieces: Buffer[] = [];
    relaxedBody(run, whole, (piece) => pieces.push(piece));
    return Buffer.concat(pieces);
  };
  const prefix = createHash("sha256");
  const steps: BodyPlan["steps"] = [];
  if (body.length === 0) prefix.update(canonical(last, true));
  else prefix.update(canonical(runs[0] as Buffer, false));
  for (const [i, slot] of body.entries()) {
    const after = i + 1 < body.length ? canonical(runs[i + 1] as Buffer, false) : canonical(last, true);
    steps.push({ value: slot.value, after });
  }
  return { prefix, steps };
}

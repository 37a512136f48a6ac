import type { BounceRecipient, BounceType } from "./bounce.js";

const RANK: Record<BounceType, number> = { none: 0, soft: 1, hard: 2, complaint: 3 };

/** A report's type is the most severe of its recipients' types. */
export function mostSevere(recipients: readonly Pick<BounceRecipient, "type">[]): BounceType {
  let worst: BounceType = "none";
  for (const r of recipients) if (RANK[r.type] > RANK[worst]) worst = r.type;
  return worst;
}

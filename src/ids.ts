/** A UUID in its usual text form (any version): ids of sends, issues and subscribers. */
export const uuidSource = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const uuidPattern = new RegExp(`^${uuidSource}$`, "i");

/** Checked before a value reaches a `uuid` column, where Postgres would answer with an error. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

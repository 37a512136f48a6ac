import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.js";

/**
 * The seed issue (examples/issues/vol-2-6.md) with sources under each story, as a real issue has:
 * an external link per story, one URL cited by two stories, a query string with `&`, a `mailto:`
 * and a link to the archive (neither of which may be tracked).
 */
export const sources = [
  "https://ustr.gov/about-us/policy-offices/press-office/press-releases/2023/march/critical-minerals?lang=en&ref=digest",
  "https://jp.usembassy.gov/remarks-ambassador-emanuel-university-of-tokyo/",
  "https://www.mda.mil/news/gpi.html",
  "https://www.navy.mil/Press-Office/News-Stories/",
  "https://www.pcg.gov.ph/oil-spill-naujan/",
] as const;
export const sharedSource = "https://www.state.gov/us-japan-alliance/";

export function linkedIssue(publicUrl: string): string {
  const seed = readFileSync(join(repoRoot, "examples/issues/vol-2-6.md"), "utf8");
  let story = -1;
  return seed.replace(/\n(## [^\n]+\n\n[^\n]+\n)/g, (_whole, block: string) => {
    story++;
    const extra =
      story === 0
        ? ` Questions: [write to us](mailto:egulum@spfusa.org). Earlier coverage: [Vol 2.5](${publicUrl}/archive/vol-2-5).`
        : "";
    const shared = story === 0 || story === 4 ? ` Background: [State Department](${sharedSource}).` : "";
    return `\n${block.trimEnd()}\n\nSource: [${sources[story]?.split("/")[2]}](${sources[story]}).${shared}${extra}\n`;
  });
}

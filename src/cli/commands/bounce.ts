import type { Command } from "commander";
import { action } from "../action.js";

export interface BounceOutput {
  type: string;
  feedbackType?: string;
  recipients: {
    address: string;
    status: string;
    action: string;
    diagnostic: string;
    type: string;
    reason: string;
  }[];
}

/** What `digest bounce FILE` prints: parses the file, opens no database. */
export async function bounceOutput(file: string): Promise<BounceOutput> {
  const { parseBounce, PARSED_BYTES } = await import("../../bounces/parse.js");
  const { readReportFile } = await import("../report-file.js");
  const raw = await readReportFile(file, PARSED_BYTES);
  const bounce = await parseBounce(raw);
  return {
    type: bounce.type,
    ...(bounce.feedbackType ? { feedbackType: bounce.feedbackType } : {}),
    recipients: bounce.recipients,
  };
}

export function register(program: Command): void {
  program
    .command("bounce")
    .description(
      "parse a bounce (DSN or plain text) or complaint (ARF) message and print one JSON object: " +
        "type hard|soft|complaint|none, feedbackType, recipients",
    )
    .argument("<FILE.eml>", "the bounce or complaint message")
    .option(
      "--apply",
      "record it with the bounce policy (needs the database and SECRET): only when its VERP address or " +
        "our signed Message-ID names a delivery, and the recipient it names is that delivery's reader",
    )
    .action(
      action(async (file: string, opts: { apply?: boolean }) => {
        if (opts.apply) {
          const { applyBounceFile } = await import("../bounce-apply.js");
          const { bounce, applied } = await applyBounceFile(file);
          const output = {
            type: bounce.type,
            ...(bounce.feedbackType ? { feedbackType: bounce.feedbackType } : {}),
            recipients: bounce.recipients,
            applied: applied.applied
              ? { deliveryId: applied.deliveryId, ...applied.recorded }
              : { deliveryId: applied.deliveryId ?? null, ignored: applied.why },
          };
          process.stdout.write(`${JSON.stringify(output)}\n`);
          return 0;
        }
        const output = await bounceOutput(file);
        process.stdout.write(`${JSON.stringify(output)}\n`);
        return 0;
      }),
    );
}

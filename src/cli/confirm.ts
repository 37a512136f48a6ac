import { createInterface } from "node:readline/promises";

/** Asks on the terminal for the number of readers; only that exact number (commas allowed) sends. */
export async function confirmOnTerminal(readers: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Type ${readers} to send to ${readers === 1 ? "this reader" : "these readers"} (anything else cancels): `,
    );
    return answer.replace(/[,\s_]/g, "") === String(readers);
  } finally {
    rl.close();
  }
}

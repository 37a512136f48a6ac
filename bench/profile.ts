import { readFileSync } from "node:fs";
import { basename } from "node:path";

/**
 * Self time per function of one or more `.cpuprofile` files (node --cpu-prof), summed over the
 * files and printed as the top N with their share: `npx tsx bench/profile.ts [--top N] FILE...`.
 * Profile the workers with BENCH_WORKER_NODE_FLAGS="... --cpu-prof --cpu-prof-dir=DIR".
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt === -1 ? 30 : Number(args[topAt + 1]);
const files = topAt === -1 ? args : args.filter((_, i) => i !== topAt && i !== topAt + 1);
const self = new Map<string, number>();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    const where = frame?.url ? `${basename(frame.url)}:${frame.lineNumber + 1}` : "native";
    const key = `${frame?.functionName || "(anonymous)"} ${where}`;
    self.set(key, (self.get(key) ?? 0) + micros);
    total += micros;
  });
}
const idle = self.get("(idle) native") ?? 0;
process.stdout.write(
  `${files.length} profile(s), ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle\n`,
);
for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(
    `${(micros / 1000).toFixed(0).padStart(8)} ms ${((100 * micros) / (total - idle)).toFixed(1).padStart(5)} %  ${key}\n`,
  );

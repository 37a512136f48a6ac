import { visibleText } from "../visible-text.js";

/**
 * What `digest doctor` says about one thing it looked at. `fix` is the exact record or setting to
 * add or change, so a problem is never reported without the way out.
 */
export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  /** Stable: spf, spf-mail-domain, dkim, dmarc, alignment, mx, relay, relay-starttls, relay-auth, public-url. */
  id: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  /** False when any check failed; warnings do not count. */
  ok: boolean;
  checks: Check[];
}

export const ok = (id: string, message: string): Check => ({ id, status: "ok", message });
export const warn = (id: string, message: string, fix?: string): Check => ({
  id,
  status: "warn",
  message,
  ...(fix ? { fix } : {}),
});
export const fail = (id: string, message: string, fix?: string): Check => ({
  id,
  status: "fail",
  message,
  ...(fix ? { fix } : {}),
});

export function reportOf(checks: Check[]): DoctorReport {
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

const mark: Record<CheckStatus, string> = { ok: "[ok]  ", warn: "[warn]", fail: "[FAIL]" };

/**
 * The checklist a person reads: one line per check, its fix indented below. Messages quote what DNS
 * servers and relays answered, which anyone who controls them chooses: shown, never obeyed.
 */
export function checklistText(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${mark[check.status]} ${check.id}: ${visibleText(check.message)}`);
    if (check.fix) for (const line of check.fix.split("\n")) lines.push(`         ${visibleText(line)}`);
  }
  const failed = report.checks.filter((c) => c.status === "fail").length;
  const warned = report.checks.filter((c) => c.status === "warn").length;
  lines.push(
    "",
    report.ok
      ? `Mail should be accepted${warned ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}.`
      : `${failed} problem${failed === 1 ? "" : "s"} to fix before mail will be accepted.`,
  );
  return `${lines.join("\n")}\n`;
}

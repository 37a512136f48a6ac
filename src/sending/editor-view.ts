import type { SendReport } from "./report.js";
import type { Reason, SendProgress } from "./status.js";

/**
 * What an editor may read of a send (SPEC §4 roles: readers are an admin's business): every count
 * and every reason, but no example answer. A server's words quote the refused address more often
 * than not ("550 5.1.1 <bob@example.com>: no such user"), sometimes only its local part or in a
 * mangled form, so masking addresses inside them would leak what the mask misses: they go whole.
 */
export type SendProgressForEditors = Omit<SendProgress, "reasons" | "report"> & {
  reasons: Omit<Reason, "example">[];
  report: ReportForEditors | null;
};

export type ReportForEditors = Omit<SendReport, "failed"> & {
  failed: Omit<SendReport["failed"][number], "example">[];
};

export function forEditors(s: SendProgress): SendProgressForEditors {
  const { reasons, report, rateLimit, ...rest } = s;
  return {
    ...rest,
    // The relay's words may quote an address too: editors get "relay throttling", not the answer.
    rateLimit: rateLimit && { ...rateLimit, reason: rateLimit.reason?.split(":")[0] ?? null },
    reasons: reasons.map(({ status, reason, count }) => ({ status, reason, count })),
    report: report && {
      ...report,
      failed: report.failed.map(({ reason, count }) => ({ reason, count })),
    },
  };
}

/** When a temporary failure is tried again, and when it is given up. */
export interface BackoffSettings {
  retryBaseSeconds: number;
  /** Past this long after the send started, a row that still fails is given up (`failed`). */
  deferHorizonSeconds: number;
}

const maxDelaySeconds = 6 * 3600;

/**
 * Growing backoff (`attempts` counts claims, this one included), capped at six hours; undefined
 * when the next try would fall past the send's horizon.
 */
export function retryDelay(
  settings: BackoffSettings,
  attempts: number,
  sendStartedAt: number,
  now = Date.now(),
): number | undefined {
  const delay = Math.min(settings.retryBaseSeconds * 2 ** Math.max(0, attempts - 1), maxDelaySeconds);
  return now + delay * 1000 > sendStartedAt + settings.deferHorizonSeconds * 1000 ? undefined : delay;
}

import { pino } from "pino";

export type Logger = pino.Logger;

/** Logs go to stderr as JSON lines, so stdout stays the command's own output. */
export function createLogger(level: string, name = "digest"): Logger {
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}

/** For tests and one-shot commands that want no log lines. */
export const silentLogger: Logger = pino({ level: "silent" });

// A pino logger that keeps what it writes, for assertions on log entries.
import { pino, type Logger } from "pino";

export interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLogger {
  logger: Logger;
  entries: LogEntry[];
}

export function captureLogger(level = "debug"): CapturedLogger {
  const entries: LogEntry[] = [];
  const logger = pino(
    { level },
    {
      write(line: string) {
        entries.push(JSON.parse(line) as LogEntry);
      },
    },
  );
  return { logger, entries };
}

/** pino's numeric levels. */
export const logLevels = { debug: 20, info: 30, warn: 40, error: 50 } as const;

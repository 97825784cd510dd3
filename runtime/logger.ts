// Structured JSON logs. Fields that commonly hold credentials are redacted wherever they appear
// at the top level or one object deep.
import { pino, type DestinationStream, type Level, type Logger } from "pino";

export interface LoggerOptions {
  level?: Level | "silent";
  /** Added to every entry as `name` (the component: "hub", "agent", ...). */
  name?: string;
  /** Where entries go; standard output when absent. */
  destination?: DestinationStream;
}

const secretFields = ["token", "password", "privateKey", "keyData", "clientKey", "authorization"];
export const redactedPaths = [
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
  "headers.authorization",
  "*.headers.authorization",
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      ...(options.name !== undefined ? { name: options.name } : {}),
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    options.destination,
  );
}

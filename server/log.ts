import pino from "pino";
import pretty from "pino-pretty";

/**
 * The server's log: one line per event that matters, on stdout. `LOG_FORMAT=json` writes one
 * JSON object per line (`level` as a name, `time` as ISO 8601, `msg`, and the event's fields);
 * `LOG_FORMAT=pretty` writes readable lines for a terminal. Unset: pretty when stdout is a
 * terminal, JSON otherwise (a pipe, a file, a container's log collector). `LOG_LEVEL` (default
 * `info`) sets the threshold. Secrets never go in: fields named like credentials are redacted
 * should a caller pass one by mistake.
 */
export type LogFormat = "json" | "pretty";

export function logFormatOf(value: string | undefined, stdoutIsTerminal: boolean): LogFormat {
  if (value === "json" || value === "pretty") return value;
  return stdoutIsTerminal ? "pretty" : "json";
}

/** Field names whose values are replaced by "[redacted]" wherever they appear (top level or one level down). */
const SECRET_FIELDS = ["password", "token", "authorization", "cookie", "apiKey", "secret"];

export function createLog(format: LogFormat, level = "info", destination?: NodeJS.WritableStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`)], censor: "[redacted]" },
  };
  if (format === "pretty") {
    // In this thread, synchronously (not pino's worker transport): a line is out before the process exits.
    return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid", destination: destination ?? 1 }));
  }
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

const requested = process.env.LOG_FORMAT;
export const logFormat = logFormatOf(requested, process.stdout.isTTY === true);
export const log = createLog(logFormat, process.env.LOG_LEVEL || "info");
if (requested && requested !== logFormat) log.warn({ LOG_FORMAT: requested }, `LOG_FORMAT must be json or pretty; using ${logFormat}`);

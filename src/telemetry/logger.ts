/** Structured logs, one JSON object per line on stderr, so they can be shipped as they are. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Lines handed to `sink` together, once per turn of the event loop (or each 64 KiB): the access
 * log writes a line per call, and a write(2) per line cost the gateway more than formatting it.
 * Whatever is pending when the process exits is written then, as exit handlers run synchronously.
 */
export function batchedLines(sink: (chunk: string) => void): (line: string) => void {
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    sink(chunk);
  };
  process.on("exit", flush);
  return (line) => {
    if (pending === "") setImmediate(flush);
    pending += line;
    if (pending.length > 65_536) flush();
  };
}

let stderrLines: ((line: string) => void) | undefined;

/** Every default logger shares one batch on stderr. */
function toStderr(line: string): void {
  stderrLines ??= batchedLines((chunk) => process.stderr.write(chunk));
  stderrLines(line);
}

export function createLogger(
  level: LogLevel | "silent" = "info",
  write: (line: string) => void = toStderr,
): Logger {
  const min = level === "silent" ? Number.POSITIVE_INFINITY : ORDER[level];
  const emit = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    if (ORDER[lvl] < min) return;
    // The line is spliced rather than built as one object: the access log writes one per call, and
    // copying its fields into a fresh object took longer than encoding them.
    const head = `{"time":"${isoNow()}","level":"${lvl}","msg":${JSON.stringify(msg)}`;
    const rest = fields === undefined ? "{}" : JSON.stringify(fields);
    write(rest.length > 2 ? `${head},${rest.slice(1)}\n` : `${head}}\n`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

let lastMs = 0;
let lastIso = "";

/** The time as ISO 8601, formatted once per millisecond however many lines share it. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

export const silentLogger: Logger = createLogger("silent");

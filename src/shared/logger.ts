import type { LogLevel } from "./config.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line it writes. */
  child(bindings: LogFields): Logger;
  /** True when lines at `level` are written, to skip building costly fields. */
  isEnabled(level: LogLevel): boolean;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  /** Receives each line without its newline; defaults to writing to stderr. */
  sink?: (line: string) => void;
  /** Fields added to every line. */
  bindings?: LogFields;
  /** Clock for the `time` field (ms since the epoch). */
  now?: () => number;
}

function serializeError(err: Error, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = normalize(err.cause, seen);
  return out;
}

/** Makes any value JSON-safe: errors keep their message and stack, cycles and bigints survive. */
function normalize(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, seen);
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map((v) => normalize(v, seen));
    if (value instanceof Map) return normalize(Object.fromEntries(value), seen);
    if (value instanceof Set) return normalize([...value], seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Creates a small structured logger: JSON lines with `time`, `level`, `msg`, the bindings and
 * the call's fields. A sink that throws never breaks the caller.
 *
 * @example
 * const log = createLogger({ level: "info" }).child({ runId });
 * log.warn("agent slow to answer", { vmId, waitedMs: 5000 });
 */
export function createLogger(opts: LoggerOptions): Logger {
  const sink = opts.sink ?? ((line: string) => void process.stderr.write(line + "\n"));
  const now = opts.now ?? Date.now;
  const bindings = opts.bindings ?? {};
  const min = RANK[opts.level];

  const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const time = new Date(now()).toISOString();
    // Reserved keys come first and cannot be overwritten by a field of the same name.
    const merged: LogFields = { time, level, msg, ...bindings, ...fields };
    merged.time = time;
    merged.level = level;
    merged.msg = msg;
    const record = normalize(merged, new WeakSet());
    try {
      sink(JSON.stringify(record));
    } catch {
      // Logging must never take the program down; there is nowhere left to report this.
    }
  };

  return {
    level: opts.level,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (more) => createLogger({ ...opts, sink, now, bindings: { ...bindings, ...more } }),
    isEnabled: (level) => RANK[level] >= min,
  };
}

import type { Diagnostic } from "../shared/diagnostic.ts";
import { formatDiagnostic, hasErrors } from "../shared/diagnostic.ts";
import { loadConfig, type Config } from "../shared/config.ts";
import { createLogger, type Logger } from "../shared/logger.ts";

/** The process surroundings a command works with; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Invalid input: printed as diagnostics, exit code 2. */
export class UsageError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "UsageError";
    this.diagnostics = diagnostics;
  }
}

/** Prints warnings and throws {@link UsageError} when any diagnostic is an error. */
export function checkDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  if (hasErrors(diagnostics)) throw new UsageError([...diagnostics]);
  for (const d of diagnostics) io.stderr.write(formatDiagnostic(d) + "\n");
}

/** Loads the configuration from the command's environment or throws a {@link UsageError}. */
export function configFrom(io: CliIo): Config {
  const { value, diagnostics } = loadConfig(io.env);
  checkDiagnostics(io, diagnostics);
  if (!value) throw new UsageError(diagnostics);
  return value;
}

/** Collects a repeatable flag's values (commander helper). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * A logger for CLI commands: warnings and errors as short human lines on stderr
 * (`actvm: warn: message (key=value)`), at the configured level.
 */
export function cliLogger(io: CliIo, config: Config): Logger {
  return createLogger({
    level: config.logLevel === "debug" || config.logLevel === "info" ? "warn" : config.logLevel,
    sink: (line) => {
      const { level, msg, time: _t, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      io.stderr.write(`actvm: ${String(level)}: ${String(msg)}${extra ? ` (${extra})` : ""}\n`);
    },
  });
}

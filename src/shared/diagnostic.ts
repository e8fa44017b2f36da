/**
 * A problem in user input (YAML, expressions, flags, config, API bodies), located as
 * precisely as the input allows. Parsers return lists of these and never throw.
 */
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  /** Path of the file as the user would name it (repository-relative when possible). */
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  col?: number;
  /** For flags, config keys and API fields: which one. */
  field?: string;
  /** How to fix it. */
  hint?: string;
}

/** A parse result: a value (when usable) and every diagnostic found. */
export interface Parsed<T> {
  value: T | undefined;
  diagnostics: Diagnostic[];
}

/** `file:line:col: error: message (hint)` — the one way diagnostics are printed. */
export function formatDiagnostic(d: Diagnostic): string {
  let where = d.file ?? "";
  if (d.file && d.line !== undefined)
    where += `:${d.line}${d.col !== undefined ? `:${d.col}` : ""}`;
  if (d.field) where += where ? ` (${d.field})` : d.field;
  const head = where ? `${where}: ${d.severity}: ` : `${d.severity}: `;
  return head + d.message + (d.hint ? `\n  hint: ${d.hint}` : "");
}

/** True when any diagnostic is an error. */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

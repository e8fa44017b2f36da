import type { Diagnostic } from "../shared/diagnostic.ts";

/** Which file command a file belongs to; only `env` has blocked names. */
export type EnvFileKind = "env" | "output" | "state";

/** The result of {@link parseEnvFile}: the pairs in file order and every problem found. */
export interface EnvFileResult {
  values: Array<{ key: string; value: string }>;
  diagnostics: Diagnostic[];
}

/**
 * Names GitHub's runner refuses in GITHUB_ENV (`SetEnvFileCommand._setEnvBlockList`, compared
 * case-insensitively): NODE_OPTIONS would let one step inject code into every later
 * JavaScript action. The runner reports an error and skips the pair; so do we.
 */
export const BLOCKED_ENV_NAMES: readonly string[] = ["NODE_OPTIONS"];

/**
 * Parses a GITHUB_ENV, GITHUB_OUTPUT or GITHUB_STATE file: `NAME=value` lines and heredocs
 * (`NAME<<DELIM`, value lines, a line equal to `DELIM`), the earlier of `=` and `<<` deciding
 * the form, as in GitHub's `EnvFileKeyValuePairs`. LF and CRLF both end lines (GitHub's Linux
 * runner only knows LF, which leaves a stray CR in values written by Windows tools); a heredoc
 * value keeps its inner line endings as written. Never throws: a missing closing delimiter,
 * an empty name or a line with neither form is an error diagnostic, and parsing goes on.
 * `kind` defaults to `env` for a file named GITHUB_ENV, otherwise `output`.
 *
 * @example
 * parseEnvFile("A=1\nB<<EOF\nx\ny\nEOF\n", { file: "GITHUB_ENV" }).values;
 * // [{ key: "A", value: "1" }, { key: "B", value: "x\ny" }]
 */
export function parseEnvFile(
  content: string,
  opts: { file: string; kind?: EnvFileKind },
): EnvFileResult {
  const kind = opts.kind ?? (/(^|[\\/])GITHUB_ENV$/.test(opts.file) ? "env" : "output");
  const values: EnvFileResult["values"] = [];
  const diagnostics: Diagnostic[] = [];
  const lines = splitLines(content);
  const error = (line: number, message: string, hint?: string): void => {
    diagnostics.push({
      severity: "error",
      message,
      file: opts.file,
      line,
      col: 1,
      ...(hint ? { hint } : {}),
    });
  };

  for (let i = 0; i < lines.length; i++) {
    const { text } = lines[i]!;
    const lineNo = i + 1;
    if (text === "") continue;
    const eq = text.indexOf("=");
    const heredoc = text.indexOf("<<");
    let key: string;
    let value: string;
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      key = text.slice(0, eq);
      value = text.slice(eq + 1);
    } else if (heredoc >= 0) {
      key = text.slice(0, heredoc);
      const delimiter = text.slice(heredoc + 2);
      if (delimiter === "") {
        error(
          lineNo,
          `invalid format '${text}': the heredoc delimiter must not be empty`,
          "write NAME<<DELIMITER",
        );
        continue;
      }
      let close = i + 1;
      while (close < lines.length && lines[close]!.text !== delimiter) close++;
      if (close >= lines.length) {
        error(
          lineNo,
          `matching delimiter '${delimiter}' not found for '${key}'`,
          "end the value with a line that holds only the delimiter, and pick a delimiter that cannot occur in the value",
        );
        // Nothing after the opening line can be trusted as NAME=value: it is the value.
        break;
      }
      const first = lines[i + 1]!;
      const last = lines[close - 1]!;
      value = close === i + 1 ? "" : content.slice(first.start, last.start + last.text.length);
      i = close;
    } else {
      error(lineNo, `invalid format '${text}': expected NAME=value or NAME<<DELIMITER`);
      continue;
    }
    if (key === "") {
      error(lineNo, "the name must not be empty");
      continue;
    }
    if (key.trim() !== key) {
      diagnostics.push({
        severity: "warning",
        message: `the name '${key}' has leading or trailing whitespace, which is kept as part of the name`,
        file: opts.file,
        line: lineNo,
        col: 1,
      });
    }
    if (kind === "env") {
      const blocked = BLOCKED_ENV_NAMES.find((b) => b.toUpperCase() === key.toUpperCase());
      if (blocked !== undefined) {
        error(
          lineNo,
          `Can't store ${blocked} output parameter using '$GITHUB_ENV' command.`,
          `set ${blocked} in the workflow's env: instead`,
        );
        continue;
      }
    }
    values.push({ key, value });
  }
  return { values, diagnostics };
}

/**
 * Parses a GITHUB_PATH file: one directory per line, blank lines skipped. Returns the
 * directories in the order they go in front of PATH: a later line takes precedence, so it
 * comes first, and a repeated directory keeps only its latest position.
 *
 * @example
 * parsePathFile("/a\n/b\n"); // ["/b", "/a"]
 */
export function parsePathFile(content: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const lines = splitLines(content);
  for (let i = lines.length - 1; i >= 0; i--) {
    const dir = lines[i]!.text;
    if (dir.trim() === "" || seen.has(dir)) continue;
    seen.add(dir);
    out.push(dir);
  }
  return out;
}

/** Lines with their start offsets; CRLF and LF both end a line. */
function splitLines(content: string): Array<{ text: string; start: number }> {
  const out: Array<{ text: string; start: number }> = [];
  let pos = 0;
  while (pos < content.length) {
    let lf = content.indexOf("\n", pos);
    if (lf < 0) lf = content.length;
    const end = lf > pos && content.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
    out.push({ text: content.slice(pos, end), start: pos });
    pos = lf + 1;
  }
  return out;
}

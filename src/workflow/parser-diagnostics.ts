import type { TemplateValidationError } from "@actions/workflow-parser/templates/template-validation-error";
import type { Diagnostic } from "../shared/diagnostic.ts";

const HINTS: { pattern: RegExp; hint: (m: RegExpMatchArray) => string }[] = [
  {
    pattern: /depends on unknown job '([^']*)'/,
    hint: (m) => `'${m[1]}' is not a job in this workflow; list job ids from jobs: under needs:`,
  },
  {
    pattern: /Unexpected value '([^']*)'/,
    hint: (m) => `'${m[1]}' is not allowed here; check its spelling and indentation`,
  },
  {
    pattern: /Required property is missing: shell/,
    hint: () =>
      "add shell: bash (or sh, pwsh, python); composite action run: steps must name their shell",
  },
  { pattern: /Required property is missing: (\S+)/, hint: (m) => `add '${m[1]}:' here` },
  {
    pattern: /is already defined/,
    hint: () => "each key may appear once in a mapping; remove or rename the duplicate",
  },
  { pattern: /expression is not closed/, hint: () => "close the expression with }}" },
  {
    pattern: /Unrecognized named-value: '([^']*)'/,
    hint: (m) => `the context '${m[1]}' is not available here; see which contexts each key allows`,
  },
  {
    pattern: /Unrecognized function: '([^']*)'/,
    hint: (m) => `'${m[1]}' is not an expression function`,
  },
  {
    pattern: /at least one job with no dependencies/,
    hint: () => "every job lists needs:, so none can start; at least one job must have no needs:",
  },
  {
    pattern: /Invalid cron expression/,
    hint: () => "use five fields: minute hour day-of-month month day-of-week",
  },
  {
    pattern: /Unexpected type '([^']*)' encountered while reading '([^']*)'/,
    hint: (m) => `'${m[2]}' cannot be a ${m[1]} here`,
  },
  {
    pattern: /Missing 'options' for choice input/,
    hint: () => "a choice input lists its allowed values under options:",
  },
];

/**
 * Turns the workflow parser's errors into diagnostics for `file`, using the token range rather
 * than the message's "(Line: n, Col: m)" prefix, trimming the yaml library's source excerpt,
 * and adding a hint where the fix is clear.
 */
export function parserDiagnostics(
  errors: readonly TemplateValidationError[],
  file: string,
): Diagnostic[] {
  return errors.map((e) => {
    let message = e.rawMessage;
    let line = e.range?.start.line;
    let col = e.range?.start.column;
    // yaml library errors embed "at line L, column C:" and a source excerpt after the first line.
    const yamlPos = /^(.*?) at line (\d+), column (\d+):/s.exec(message);
    if (yamlPos) {
      message = yamlPos[1] ?? message;
      line ??= Number(yamlPos[2]);
      col ??= Number(yamlPos[3]);
    }
    message = message.split("\n")[0]?.trim() ?? message;
    const d: Diagnostic = { severity: "error", message, file };
    if (line !== undefined) d.line = line;
    if (col !== undefined) d.col = col;
    for (const h of HINTS) {
      const m = message.match(h.pattern);
      if (m) {
        d.hint = h.hint(m);
        break;
      }
    }
    if (!d.hint && yamlPos)
      d.hint = "this is a YAML syntax error; check indentation, quoting and brackets";
    return d;
  });
}

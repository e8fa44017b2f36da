import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import type { JsonValue, WorkflowDef } from "./model.ts";

/** One input definition as the loader stores it (`type` also admits `number`, which GitHub's converter drops). */
interface InputDefinition {
  type?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
}

/**
 * Resolves the `inputs` context for a `workflow_dispatch` or `workflow_call` run from the values
 * given on the command line (`--input NAME=VALUE`): applies defaults, converts booleans and
 * numbers, checks `required` and choice options, and reports unknown names. Missing optional
 * inputs without a default become "", false or 0 by type, as on GitHub.
 *
 * @example
 * resolveInputs(wf, "workflow_dispatch", { level: "high" }).value // { level: "high", dry: false }
 */
export function resolveInputs(
  workflow: Pick<WorkflowDef, "events" | "file">,
  eventName: string,
  provided: Readonly<Record<string, string>>,
): Parsed<Record<string, JsonValue>> {
  const diagnostics: Diagnostic[] = [];
  const config = workflow.events[eventName] as
    { inputs?: Record<string, InputDefinition> } | undefined;
  const defs = config?.inputs ?? {};
  const names = Object.keys(defs);
  const out: Record<string, JsonValue> = {};
  const problem = (name: string, message: string, hint?: string): void => {
    const d: Diagnostic = { severity: "error", message, field: `--input ${name}` };
    if (hint) d.hint = hint;
    diagnostics.push(d);
  };

  for (const name of Object.keys(provided)) {
    if (Object.prototype.hasOwnProperty.call(defs, name)) continue;
    const near = names.find((n) => n.toLowerCase() === name.toLowerCase());
    problem(
      name,
      `${workflow.file} has no ${eventName} input '${name}'`,
      near
        ? `did you mean '${near}'?`
        : names.length
          ? `inputs are: ${names.join(", ")}`
          : `the workflow defines no ${eventName} inputs`,
    );
  }

  for (const [name, def] of Object.entries(defs)) {
    const type = def.type ?? "string";
    const given = Object.prototype.hasOwnProperty.call(provided, name) ? provided[name] : undefined;
    let raw: unknown = given ?? def.default;
    if (raw === undefined) {
      if (def.required) {
        problem(name, `input '${name}' is required`, `pass --input ${name}=VALUE`);
        continue;
      }
      raw = type === "boolean" ? false : type === "number" ? 0 : "";
    }
    switch (type) {
      case "boolean": {
        const v = typeof raw === "boolean" ? raw : String(raw).trim().toLowerCase();
        if (v === true || v === "true") out[name] = true;
        else if (v === false || v === "false") out[name] = false;
        else problem(name, `input '${name}' must be true or false, not '${String(raw)}'`);
        break;
      }
      case "number": {
        const text = String(raw).trim();
        const n = typeof raw === "number" ? raw : text === "" ? NaN : Number(text);
        if (Number.isFinite(n)) out[name] = n;
        else problem(name, `input '${name}' must be a number, not '${String(raw)}'`);
        break;
      }
      case "choice": {
        const v = String(raw);
        const options = def.options ?? [];
        if (!options.includes(v)) {
          problem(
            name,
            `input '${name}' must be one of ${options.map((o) => `'${o}'`).join(", ")}, not '${v}'`,
          );
        } else {
          out[name] = v;
        }
        break;
      }
      default:
        // string and environment: GitHub passes the text as given.
        out[name] =
          typeof raw === "object" && raw !== null
            ? String((raw as { value?: unknown }).value ?? "")
            : String(raw);
    }
  }
  if (diagnostics.length > 0) return { value: undefined, diagnostics };
  return { value: out, diagnostics };
}

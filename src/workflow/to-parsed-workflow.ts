import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import {
  isBoolean,
  isMapping,
  isNumber,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { evaluateExpression } from "./evaluate-expression.ts";
import { coerceToString } from "./expression-data.ts";
import type { ExpressionContexts, StepDef, WorkflowDef } from "./model.ts";
import type { ParsedWorkflow, WorkflowStep } from "./seed-view.ts";
import { templateTokens } from "./template-tokens.ts";

/** GitHub's job timeout when `timeout-minutes` is absent. */
const DEFAULT_TIMEOUT_MINUTES = 360;
/** Functions whose result depends on run-time state, so expressions calling them stay as written. */
const RUNTIME_ONLY = /\b(hashfiles|success|failure|cancelled|always)\s*\(/i;
const KEYWORDS = new Set(["true", "false", "null", "nan", "infinity"]);

/** Options for {@link toParsedWorkflow}. */
export interface ToParsedWorkflowOptions {
  /** Contexts known now (`matrix`, `github`, `inputs`, ...); expressions using only these are substituted. */
  contexts?: ExpressionContexts;
}

/**
 * Flattens one job into the seed's {@link ParsedWorkflow}: `run:` steps become commands (with
 * `${{ }}` replaced where the given contexts suffice, and left as written otherwise; step `env:`
 * becomes `export` lines), `actions/checkout` is dropped because the workspace is the repository,
 * `actions/cache` paths go to `cache_paths`, and other actions are omitted with a warning.
 *
 * @example
 * const { value } = await toParsedWorkflow(wf, "build", { contexts: { matrix: { node: 20 } } });
 */
export async function toParsedWorkflow(
  workflow: WorkflowDef,
  jobId: string,
  opts: ToParsedWorkflowOptions = {},
): Promise<Parsed<ParsedWorkflow>> {
  const diagnostics: Diagnostic[] = [];
  const job = workflow.jobs.find((j) => j.id === jobId);
  if (!job) {
    diagnostics.push({
      severity: "error",
      message: `no job '${jobId}' in ${workflow.file}`,
      field: "-j",
      hint: `jobs are: ${workflow.jobs.map((j) => j.id).join(", ")}`,
    });
    return { value: undefined, diagnostics };
  }
  const contexts = opts.contexts ?? {};
  const render = (t: TemplateToken | undefined): Promise<string | undefined> =>
    renderText(t, contexts);

  const environment: Record<string, string> = {};
  for (const token of [workflow.env, job.env]) {
    for (const [k, v] of await renderMapping(token, contexts)) environment[k] = v;
  }

  const value: ParsedWorkflow = {
    name: workflow.name,
    trigger: Object.keys(workflow.events)[0] ?? "",
    environment,
    setup_commands: [],
    steps: [],
    cleanup_commands: [],
    cache_paths: [],
  };
  const jobTimeout = literalNumber(job.timeoutMinutes) ?? DEFAULT_TIMEOUT_MINUTES;
  const warn = (step: StepDef, message: string, hint?: string): void => {
    const d: Diagnostic = { severity: "warning", message, ...step.location };
    if (hint) d.hint = hint;
    diagnostics.push(d);
  };

  for (const step of job.steps) {
    if (step.uses !== undefined) {
      const action = step.uses.split("@")[0]?.toLowerCase() ?? "";
      if (action === "actions/checkout") continue;
      if (action === "actions/cache") {
        const path = await render(templateTokens.get(step.with, "path"));
        for (const line of (path ?? "").split("\n"))
          if (line.trim()) value.cache_paths.push(line.trim());
        continue;
      }
      warn(
        step,
        `step uses ${step.uses}, which the seed view cannot express as a command; it is left out`,
      );
      continue;
    }
    const run = (await render(step.run)) ?? "";
    if (step.if !== "success()") {
      warn(
        step,
        `step condition '${step.if}' is not part of the seed view; the step is listed unconditionally`,
      );
    }
    const shell = step.shell ?? job.defaults.shell ?? workflow.defaults.shell;
    if (shell !== undefined && !/^(bash|sh)\b/.test(shell)) {
      warn(step, `step runs with shell '${shell}', but the seed view runs commands with sh`);
    }
    const exports: string[] = [];
    for (const [k, v] of await renderMapping(step.env, contexts))
      exports.push(`export ${k}=${shellQuote(v)}`);
    const firstLine =
      run
        .split("\n")
        .find((l) => l.trim())
        ?.trim() ?? "";
    const entry: WorkflowStep = {
      name: (await render(step.name)) || `Run ${firstLine}`,
      command: [...exports, run].join("\n"),
      working_dir:
        (await render(step.workingDirectory)) ??
        job.defaults.workingDirectory ??
        workflow.defaults.workingDirectory ??
        ".",
      continue_on_error: literalBoolean(step.continueOnError) ?? false,
      timeout_seconds: Math.round((literalNumber(step.timeoutMinutes) ?? jobTimeout) * 60),
    };
    value.steps.push(entry);
  }
  return { value, diagnostics };
}

async function renderMapping(
  token: TemplateToken | undefined,
  contexts: ExpressionContexts,
): Promise<[string, string][]> {
  if (!token || !isMapping(token)) return [];
  const out: [string, string][] = [];
  for (const pair of token) {
    const key = templateTokens.text(pair.key);
    if (key === undefined) continue;
    out.push([key, (await renderText(pair.value, contexts)) ?? ""]);
  }
  return out;
}

/**
 * The text of a scalar with each `${{ }}` replaced by its value when every context it reads is
 * known and it calls no run-time function; otherwise that expression stays as written.
 */
async function renderText(
  token: TemplateToken | undefined,
  contexts: ExpressionContexts,
): Promise<string | undefined> {
  const text = templateTokens.text(token);
  if (text === undefined || !text.includes("${{")) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${{", i);
    if (start < 0) break;
    const end = closing(text, start + 3);
    if (end < 0) break;
    out += text.slice(i, start);
    const written = text.slice(start, end + 2);
    out += await substitute(text.slice(start + 3, end).trim(), written, contexts);
    i = end + 2;
  }
  return out + text.slice(i);
}

async function substitute(
  expr: string,
  written: string,
  contexts: ExpressionContexts,
): Promise<string> {
  if (RUNTIME_ONLY.test(expr)) return written;
  const known = (n: string): boolean => Object.prototype.hasOwnProperty.call(contexts, n);
  if (!referencedContexts(expr).every(known)) return written;
  try {
    return coerceToString(await evaluateExpression(expr, contexts));
  } catch {
    // Not statically evaluable (syntax the runner will report later, or a missing value).
    return written;
  }
}

/** Names at the start of property paths (`matrix` in `matrix.os`), ignoring strings and calls. */
function referencedContexts(expr: string): string[] {
  const withoutStrings = expr.replace(/'(?:[^']|'')*'/g, "''");
  const names = new Set<string>();
  const re = /(^|[^.\w-])([A-Za-z_][\w-]*)(\s*\()?/g;
  for (const m of withoutStrings.matchAll(re)) {
    const name = m[2]!.toLowerCase();
    if (m[3] || KEYWORDS.has(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** Index of the `}}` closing an expression body starting at `from`, skipping quoted strings. */
function closing(text: string, from: number): number {
  let inString = false;
  for (let j = from; j < text.length - 1; j++) {
    if (text[j] === "'") inString = !inString;
    else if (!inString && text[j] === "}" && text[j + 1] === "}") return j;
  }
  return -1;
}

function literalNumber(token: TemplateToken | undefined): number | undefined {
  if (token && isNumber(token) && Number.isFinite(token.value) && token.value > 0)
    return token.value;
  return undefined;
}

function literalBoolean(token: TemplateToken | undefined): boolean | undefined {
  return token && isBoolean(token) ? token.value : undefined;
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

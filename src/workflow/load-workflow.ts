import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  parseWorkflow,
} from "@actions/workflow-parser";
import type { EventsConfig, WorkflowJob } from "@actions/workflow-parser/model/workflow-template";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import {
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { checkTimeoutMinutes } from "./check-timeout-minutes.ts";
import { findNeedsCycle } from "./find-needs-cycle.ts";
import type { JobDef, RunDefaults, WorkflowDef } from "./model.ts";
import { parserDiagnostics } from "./parser-diagnostics.ts";
import { preflightYaml } from "./preflight-yaml.ts";
import { readSteps } from "./read-steps.ts";
import { templateTokens } from "./template-tokens.ts";

/** One workflow file to load: its absolute path, its repository-relative name, its text. */
export interface WorkflowSource {
  path: string;
  file: string;
  content: string;
}

/**
 * Parses and validates one workflow file into a {@link WorkflowDef}. Never throws: syntax,
 * schema and expression problems, hostile YAML and features actvm does not support all become
 * diagnostics with file, line and column. `value` is set whenever GitHub's parser accepted the
 * file, even if actvm-specific errors (such as `container:`) were reported, so callers can still
 * list the jobs; check `hasErrors(diagnostics)` before running anything.
 *
 * @example
 * const { value, diagnostics } = await loadWorkflow({ path, file: ".github/workflows/ci.yml", content });
 */
export async function loadWorkflow(source: WorkflowSource): Promise<Parsed<WorkflowDef>> {
  const { file } = source;
  const pre = preflightYaml(source.content, file);
  if (!pre.ok) return { value: undefined, diagnostics: pre.diagnostics };
  const diagnostics: Diagnostic[] = [...pre.diagnostics];

  let parsed: ReturnType<typeof parseWorkflow>;
  try {
    parsed = parseWorkflow({ name: file, content: source.content }, new NoOperationTraceWriter());
  } catch (err) {
    // The parser reports problems through its context; a throw is a parser defect on odd input.
    diagnostics.push({
      severity: "error",
      message: `the workflow parser failed: ${String(err)}`,
      file,
      line: 1,
      col: 1,
    });
    return { value: undefined, diagnostics };
  }
  const root = parsed.value;
  const converted = root ? await convertWorkflowTemplate(parsed.context, root) : undefined;
  const errors = parserDiagnostics(parsed.context.errors.getErrors(), file);
  if (errors.length > 0 || !root || !converted || !isMapping(root)) {
    if (root) explainNeeds(root, errors, file);
    diagnostics.push(...errors);
    if (errors.length === 0)
      diagnostics.push({
        severity: "error",
        message: "the workflow is empty",
        file,
        line: 1,
        col: 1,
      });
    return { value: undefined, diagnostics };
  }

  const byId = new Map<string, WorkflowJob>((converted.jobs ?? []).map((j) => [j.id.value, j]));
  const jobs: JobDef[] = [];
  const jobsToken = root.find("jobs");
  if (jobsToken && isMapping(jobsToken)) {
    for (const pair of jobsToken) {
      const id = templateTokens.text(pair.key) ?? "";
      const job = readJob(
        id,
        pair.key,
        pair.value,
        byId.get(id),
        file,
        pre.multilineStrings,
        diagnostics,
      );
      jobs.push(job);
    }
  }
  restoreNumberInputs(root, converted.events ?? {});
  const value: WorkflowDef = {
    path: source.path,
    file,
    name: templateTokens.text(root.find("name")) || file,
    events: converted.events ?? {},
    defaults: readDefaults(root.find("defaults")),
    jobs,
  };
  const env = root.find("env");
  if (env) value.env = templateTokens.repair(env, pre.multilineStrings);
  const concurrency = root.find("concurrency");
  if (concurrency) value.concurrency = concurrency;
  return { value, diagnostics };
}

function readJob(
  id: string,
  key: TemplateToken,
  token: TemplateToken,
  converted: WorkflowJob | undefined,
  file: string,
  multiline: ReadonlyMap<string, string>,
  diagnostics: Diagnostic[],
): JobDef {
  const get = (k: string): TemplateToken | undefined => templateTokens.get(token, k);
  const fix = (t: TemplateToken | undefined): TemplateToken | undefined =>
    t === undefined ? undefined : templateTokens.repair(t, multiline);
  const job: JobDef = {
    id,
    needs: readNeeds(get("needs")),
    if: converted?.if.expression ?? "success()",
    defaults: readDefaults(get("defaults")),
    steps: [],
    location: templateTokens.locate(key, file),
  };
  const name = fix(get("name"));
  if (name) job.name = name;
  const assign = <
    K extends "runsOn" | "env" | "strategy" | "outputs" | "timeoutMinutes" | "continueOnError",
  >(
    field: K,
    yamlKey: string,
  ): void => {
    const t = fix(get(yamlKey));
    if (t) job[field] = t;
  };
  assign("runsOn", "runs-on");
  assign("env", "env");
  assign("strategy", "strategy");
  assign("outputs", "outputs");
  assign("timeoutMinutes", "timeout-minutes");
  assign("continueOnError", "continue-on-error");
  const badTimeout = checkTimeoutMinutes(get("timeout-minutes"), file);
  if (badTimeout) diagnostics.push(badTimeout);

  const uses = get("uses");
  if (uses) {
    job.uses = templateTokens.text(uses) ?? "";
    diagnostics.push({
      severity: "error",
      message: `job '${id}' calls a reusable workflow (${job.uses}); reusable workflows are not supported yet`,
      ...templateTokens.locate(uses, file),
      hint: "copy the called workflow's jobs into this workflow for now",
    });
  }
  for (const k of ["container", "services"] as const) {
    const t = get(k);
    if (!t) continue;
    diagnostics.push({
      severity: "error",
      message: `job '${id}' uses ${k}:, which actvm does not support: each job runs in actvm's own sandbox, not in containers`,
      ...templateTokens.locate(t, file),
      hint:
        k === "container"
          ? "remove container: and install what the job needs in its steps"
          : "remove services: and start the service from a step (for example as a background process)",
    });
  }

  const convertedSteps = converted && "steps" in converted ? converted.steps : [];
  const ifs = convertedSteps.map((s) => ("if" in s && s.if ? s.if.expression : undefined));
  const steps = readSteps(get("steps"), { file, kind: "job", multiline, ifs });
  job.steps = steps.steps;
  diagnostics.push(...steps.diagnostics);
  return job;
}

function readNeeds(token: TemplateToken | undefined): string[] {
  if (!token) return [];
  if (isString(token)) return [token.value];
  if (isSequence(token)) return [...token].flatMap((t) => (isString(t) ? [t.value] : []));
  return [];
}

function readDefaults(token: TemplateToken | undefined): RunDefaults {
  const run = templateTokens.get(token, "run");
  const out: RunDefaults = {};
  const shell = templateTokens.text(templateTokens.get(run, "shell"));
  if (shell !== undefined) out.shell = shell;
  const wd = templateTokens.text(templateTokens.get(run, "working-directory"));
  if (wd !== undefined) out.workingDirectory = wd;
  return out;
}

/**
 * Adds the whole cycle to the parser's per-edge cycle errors (which name one edge each), and,
 * when the parser only said that no job can start, reports the unknown needs it left unnamed.
 */
function explainNeeds(root: TemplateToken, errors: Diagnostic[], file: string): void {
  const noRoot = errors.some((e) => /no dependencies/.test(e.message));
  if (!noRoot && !errors.some((e) => /creates a cycle/.test(e.message))) return;
  const jobsToken = templateTokens.get(root, "jobs");
  if (!jobsToken || !isMapping(jobsToken)) return;
  const jobs = [...jobsToken].map((p) => ({
    id: templateTokens.text(p.key) ?? "",
    needsToken: templateTokens.get(p.value, "needs"),
  }));
  const graph = jobs.map((j) => ({ id: j.id, needs: readNeeds(j.needsToken) }));
  const cycle = findNeedsCycle(graph);
  if (cycle) {
    for (const e of errors) {
      if (/creates a cycle|no dependencies/.test(e.message)) {
        e.hint = `the jobs form a cycle: ${cycle.join(" → ")} (→ means "needs"); remove one of these needs`;
      }
    }
    return;
  }
  if (!noRoot) return;
  const ids = new Set(graph.map((j) => j.id));
  for (const j of jobs) {
    const needTokens = !j.needsToken
      ? []
      : isSequence(j.needsToken)
        ? [...j.needsToken]
        : [j.needsToken];
    for (const t of needTokens) {
      if (!isString(t) || ids.has(t.value)) continue;
      errors.push({
        severity: "error",
        message: `Job '${j.id}' depends on unknown job '${t.value}'.`,
        ...templateTokens.locate(t, file),
        hint: `'${t.value}' is not a job in this workflow; list job ids from jobs: under needs:`,
      });
    }
  }
}

/**
 * GitHub's converter knows no `number` input type, so it leaves `type` and `default` unset for
 * such inputs; restore both from the raw tokens so input resolution can convert numbers.
 */
function restoreNumberInputs(root: TemplateToken, events: EventsConfig): void {
  for (const event of ["workflow_dispatch", "workflow_call"] as const) {
    const inputs = templateTokens.get(
      templateTokens.get(templateTokens.get(root, "on"), event),
      "inputs",
    );
    const converted = (
      events[event] as { inputs?: Record<string, Record<string, unknown>> } | undefined
    )?.inputs;
    if (!inputs || !isMapping(inputs) || !converted) continue;
    for (const pair of inputs) {
      const name = templateTokens.text(pair.key) ?? "";
      const def = converted[name];
      if (!def || templateTokens.text(templateTokens.get(pair.value, "type")) !== "number")
        continue;
      def.type = "number";
      const dflt = templateTokens.get(pair.value, "default");
      if (dflt && isNumber(dflt)) def.default = dflt.value;
      else if (dflt) def.default = templateTokens.text(dflt);
    }
  }
}

import {
  buildGithubContext,
  defaultEventPayload,
  githubEnvVars,
  loadEventPayload,
  mergeEventPayload,
  readGitInfo,
  type GitInfo,
} from "../github/index.ts";
import {
  evaluateToken,
  expandMatrix,
  isLiteralToken,
  loadWorkflows,
  resolveInputs,
  workflowMatchesEvent,
  type JsonValue,
  type WorkflowDef,
} from "../workflow/index.ts";
import { hasErrors, type Diagnostic, type Parsed } from "../shared/diagnostic.ts";
import type { JobRunnerDeps } from "./job-runner.ts";
import { runWorkflow, type WorkflowRunResult } from "./workflow-runner.ts";
import type { JobResult } from "./events.ts";

/** What the user asked for, already split out of flags. */
export interface LocalRunOptions {
  repoDir: string;
  /** `-W`: a workflow file or directory; default `.github/workflows`. */
  workflowsPath?: string;
  eventName: string;
  /** `-e`: event payload file, merged over the default payload. */
  eventPath?: string;
  /** `-j`: jobs to run (with what they need). */
  jobs?: string[];
  /** `--input`: raw strings, typed against the workflow's declarations. */
  inputs: Record<string, string>;
}

/** A workflow that will run, with its typed inputs. */
export interface PlannedWorkflow {
  workflow: WorkflowDef;
  inputs: Record<string, JsonValue>;
}

/** The result of preparing a local run: nothing has executed yet. */
export interface PreparedLocalRun {
  git: GitInfo;
  eventName: string;
  payload: Record<string, unknown>;
  workflows: PlannedWorkflow[];
  /** Workflows that exist but do not run for this event (or lack the selected jobs). */
  notSelected: Array<{ file: string; reason: string }>;
}

/**
 * Reads the repository, the event and the workflows and decides what runs, reporting every
 * problem in the input as a diagnostic. Nothing executes and nothing is written.
 */
export async function prepareLocalRun(opts: LocalRunOptions): Promise<Parsed<PreparedLocalRun>> {
  const diagnostics: Diagnostic[] = [];
  let git: GitInfo;
  try {
    git = await readGitInfo(opts.repoDir);
  } catch (err) {
    return {
      value: undefined,
      diagnostics: [
        {
          severity: "error",
          message: err instanceof Error ? err.message : String(err),
          field: "-C/--directory",
          hint: "run actvm inside a git repository or pass -C DIR",
        },
      ],
    };
  }
  let userPayload: Record<string, unknown> = {};
  if (opts.eventPath) {
    const loaded = await loadEventPayload(opts.eventPath);
    diagnostics.push(...loaded.diagnostics);
    if (loaded.value) userPayload = loaded.value;
  }
  const loaded = await loadWorkflows(git.root, opts.workflowsPath);
  diagnostics.push(...loaded.diagnostics);
  if (hasErrors(diagnostics)) return { value: undefined, diagnostics };

  const payload = mergeEventPayload(
    defaultEventPayload(opts.eventName, git, opts.inputs),
    userPayload,
  );
  const workflows: PlannedWorkflow[] = [];
  const notSelected: PreparedLocalRun["notSelected"] = [];
  const wanted = opts.jobs && opts.jobs.length > 0 ? new Set(opts.jobs) : undefined;
  const foundJobs = new Set<string>();
  for (const workflow of loaded.workflows) {
    if (wanted) {
      const has = workflow.jobs.filter((j) => wanted.has(j.id));
      for (const j of has) foundJobs.add(j.id);
      if (has.length === 0) {
        notSelected.push({ file: workflow.file, reason: "has none of the selected jobs" });
        continue;
      }
    }
    const event = { name: opts.eventName, payload, changedFiles: git.changedFiles };
    if (!workflowMatchesEvent(workflow, event)) {
      notSelected.push({ file: workflow.file, reason: `not triggered by ${opts.eventName} here` });
      continue;
    }
    diagnostics.push(...(await checkLiteralMatrices(workflow)));
    const inputs = resolveInputs(workflow, opts.eventName, opts.inputs);
    diagnostics.push(...inputs.diagnostics);
    if (inputs.value) workflows.push({ workflow, inputs: inputs.value });
  }
  if (wanted) {
    for (const j of wanted) {
      if (!foundJobs.has(j)) {
        diagnostics.push({
          severity: "error",
          message: `no workflow defines a job '${j}'`,
          field: "-j/--job",
          hint: "list jobs with `actvm run -l`",
        });
      }
    }
  }
  if (hasErrors(diagnostics)) return { value: undefined, diagnostics };
  return {
    value: { git, eventName: opts.eventName, payload, workflows, notSelected },
    diagnostics,
  };
}

/** How to execute a prepared run. */
export interface ExecuteLocalRunOptions {
  deps: JobRunnerDeps;
  /** Gives each workflow run its id and run number (the store's sequence). */
  allocateRun: (workflow: WorkflowDef) => Promise<{ runId: string; runNumber: number }>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  env: Record<string, string>;
  jobs?: string[];
  matrix?: Record<string, string>;
  network: boolean;
  maxParallel: number;
  backend: string;
  signal: AbortSignal;
  debug?: boolean;
}

/** One executed workflow. */
export interface LocalWorkflowResult {
  runId: string;
  file: string;
  result: WorkflowRunResult;
}

/**
 * Runs every prepared workflow, one after another, and returns their results; the overall
 * result is the worst of them.
 */
export async function executeLocalRun(
  prepared: PreparedLocalRun,
  opts: ExecuteLocalRunOptions,
): Promise<{ result: JobResult; runs: LocalWorkflowResult[] }> {
  const runs: LocalWorkflowResult[] = [];
  for (const { workflow, inputs } of prepared.workflows) {
    if (opts.signal.aborted) break;
    const { runId, runNumber } = await opts.allocateRun(workflow);
    const github = buildGithubContext({
      eventName: prepared.eventName,
      payload: prepared.payload,
      git: prepared.git,
      workspace: "",
      runId,
      runNumber,
      runAttempt: 1,
      workflow: workflow.name,
      workflowFile: workflow.file,
    });
    const result = await runWorkflow(opts.deps, {
      runId,
      runNumber,
      workflow,
      github,
      eventJson: JSON.stringify(prepared.payload),
      defaultEnv: (vm, jobId, eventPath) =>
        githubEnvVars(
          { ...github, job: jobId, workspace: vm.paths.workspace },
          {
            eventPath,
            temp: vm.paths.temp,
            toolCache: vm.paths.toolCache,
            workspace: vm.paths.workspace,
            runnerName: `actvm-${vm.backend}`,
            ...(opts.debug ? { debug: true } : {}),
          },
        ),
      repoDir: prepared.git.root,
      secrets: opts.secrets,
      vars: opts.vars,
      inputs,
      envOverrides: opts.env,
      ...(opts.jobs
        ? { jobs: opts.jobs.filter((j) => workflow.jobs.some((w) => w.id === j)) }
        : {}),
      ...(opts.matrix ? { matrix: opts.matrix } : {}),
      network: opts.network,
      maxParallel: opts.maxParallel,
      backend: opts.backend,
      signal: opts.signal,
    });
    runs.push({ runId, file: workflow.file, result });
  }
  const results = runs.map((r) => r.result.result);
  let result: JobResult = "success";
  if (results.includes("failure")) result = "failure";
  else if (opts.signal.aborted || results.includes("cancelled")) result = "cancelled";
  return { result, runs };
}

// A matrix written without expressions can be expanded before anything runs, so its errors
// (over 256 legs, empty after exclude) are input errors rather than job failures.
async function checkLiteralMatrices(workflow: WorkflowDef): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const job of workflow.jobs) {
    if (!job.strategy) continue;
    // A strategy that uses contexts is checked when the job is scheduled.
    if (!isLiteralToken(job.strategy)) continue;
    const value = await evaluateToken(job.strategy, {}, {});
    out.push(...expandMatrix(value, { location: job.location }).diagnostics);
  }
  return out;
}

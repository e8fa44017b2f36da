import type { Vm } from "../sandbox/index.ts";
import {
  evaluateCondition,
  evaluateToken,
  evaluateTokenToEnv,
  evaluateTokenToString,
  expandMatrix,
  matrixLegName,
  planJobOrder,
  type ExpandedStrategy,
  type ExpressionContexts,
  type JobDef,
  type JsonValue,
  type MatrixLeg,
  type WorkflowDef,
} from "../workflow/index.ts";
import { formatDiagnostic } from "../shared/diagnostic.ts";
import { ActvmError } from "../shared/errors.ts";
import { createConcurrencyLimit, type ConcurrencyLimit } from "./concurrency-limit.ts";
import type { JobResult, RunEventSink } from "./events.ts";
import type { JobContexts, NeedState } from "./job-context.ts";
import { runJob, type JobRunnerDeps, type JobRunOutput } from "./job-runner.ts";
import { createSecretMasker, type SecretMasker } from "./secret-masker.ts";

/** What the runner needs to execute one workflow. */
export interface WorkflowRunInput {
  runId: string;
  /** `github.run_number`, recorded with the run. */
  runNumber: number;
  workflow: WorkflowDef;
  /** The `github` context without job-specific fields (job, workspace, action). */
  github: Record<string, JsonValue>;
  /** GitHub's default environment variables for a job, given its sandbox. */
  defaultEnv: (vm: Vm, jobId: string, eventPath: string) => Record<string, string>;
  /** The event payload as JSON (GITHUB_EVENT_PATH). */
  eventJson: string;
  repoDir: string;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  inputs: Record<string, JsonValue>;
  /** `--env` values: applied over workflow and job env. */
  envOverrides: Record<string, string>;
  /** `-j`: run these jobs (and what they need). */
  jobs?: string[];
  /** `--matrix k:v`: run only legs whose values match. */
  matrix?: Record<string, string>;
  /** Network for every job (`--network`); a job can also ask with the `runs-on` label `network`. */
  network: boolean;
  maxParallel: number;
  backend: string;
  signal: AbortSignal;
}

/** The outcome of a whole workflow run. */
export interface WorkflowRunResult {
  result: JobResult;
  jobs: Record<
    string,
    { result: JobResult; outputs: Record<string, string>; legs: Record<string, JobRunOutput> }
  >;
  durationMs: number;
}

/**
 * Executes a workflow's job graph: jobs start when their `needs` have finished, matrix legs
 * run under `max-parallel` and a global job limit, `fail-fast` cancels sibling legs, and
 * cancellation lets `always()` work finish. Emits the run event stream.
 *
 * @example
 * const result = await runWorkflow(deps, { runId, workflow, github, ... });
 */
export async function runWorkflow(
  deps: JobRunnerDeps,
  input: WorkflowRunInput,
): Promise<WorkflowRunResult> {
  const clock = deps.clock ?? Date.now;
  const started = clock();
  const emit: RunEventSink = deps.emit;
  const order = planJobOrder(input.workflow, input.jobs);
  if (!order.value) {
    throw new ActvmError("INVALID_WORKFLOW", order.diagnostics.map(formatDiagnostic).join("\n"), {
      subsystem: "run/workflow",
    });
  }
  const selected = new Set(order.value.flat());
  const jobsById = new Map(input.workflow.jobs.map((j) => [j.id, j]));
  const limit = createConcurrencyLimit(input.maxParallel);
  const results = new Map<string, Promise<NeedState>>();
  const summary: WorkflowRunResult["jobs"] = {};
  const allowedFailures = new Set<string>();

  emit({
    type: "run.started",
    runId: input.runId,
    time: started,
    workflow: input.workflow.name,
    workflowFile: input.workflow.file,
    event: String(input.github.event_name ?? ""),
    repository: String(input.github.repository ?? ""),
    sha: String(input.github.sha ?? ""),
    ref: String(input.github.ref ?? ""),
    backend: input.backend,
    runNumber: input.runNumber,
  });

  const workflowEnvContexts: ExpressionContexts = {
    github: input.github,
    vars: input.vars,
    secrets: input.secrets,
    inputs: input.inputs,
  };
  const workflowEnv = input.workflow.env
    ? await evaluateTokenToEnv(input.workflow.env, workflowEnvContexts, {})
    : {};

  const ancestors = (id: string, seen = new Set<string>()): Set<string> => {
    for (const n of jobsById.get(id)?.needs ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        ancestors(n, seen);
      }
    }
    return seen;
  };

  const runOne = (job: JobDef): Promise<NeedState> => {
    const existing = results.get(job.id);
    if (existing) return existing;
    const p = (async (): Promise<NeedState> => {
      const needStates: Record<string, NeedState> = {};
      for (const n of job.needs) {
        const dep = jobsById.get(n);
        if (dep) needStates[n] = await runOne(dep);
      }
      const ancestorResults = [...ancestors(job.id)].map((a) => summary[a]?.result ?? "skipped");
      const out = await executeJob(job, needStates, ancestorResults);
      summary[job.id] = out;
      return { result: out.result, outputs: out.outputs };
    })();
    results.set(job.id, p);
    return p;
  };

  const executeJob = async (
    job: JobDef,
    needs: Record<string, NeedState>,
    ancestorResults: JobResult[],
  ): Promise<WorkflowRunResult["jobs"][string]> => {
    const jobContexts: ExpressionContexts = {
      github: input.github,
      needs: needs as unknown as JsonValue,
      vars: input.vars,
      inputs: input.inputs,
    };
    const queued = (jobKey: string, name: string, matrix?: Record<string, JsonValue>) =>
      emit({
        type: "job.queued",
        runId: input.runId,
        jobKey,
        time: clock(),
        jobId: job.id,
        name,
        needs: job.needs,
        ...(matrix && Object.keys(matrix).length ? { matrix } : {}),
      });
    const finishWithoutRunning = (result: JobResult, error?: string) => {
      queued(job.id, job.id);
      emit({
        type: "job.completed",
        runId: input.runId,
        jobKey: job.id,
        time: clock(),
        result,
        outputs: {},
        durationMs: 0,
        ...(error ? { error } : {}),
      });
      return { result, outputs: {}, legs: {} };
    };

    let status: "success" | "failure" | "cancelled" = "success";
    if (input.signal.aborted) status = "cancelled";
    else if (ancestorResults.includes("failure")) status = "failure";
    else if (ancestorResults.includes("cancelled")) status = "cancelled";
    const usesStatusFunction = /\b(always|failure|cancelled)\s*\(/i.test(job.if);
    // GitHub skips a job whose needed jobs were skipped unless its condition says otherwise.
    const needSkipped = Object.values(needs).some((n) => n.result === "skipped");
    let shouldRun: boolean;
    try {
      shouldRun =
        needSkipped && !usesStatusFunction
          ? false
          : await evaluateCondition(job.if, jobContexts, { status: { status } });
    } catch (err) {
      return finishWithoutRunning("failure", err instanceof Error ? err.message : String(err));
    }
    if (!shouldRun) return finishWithoutRunning(input.signal.aborted ? "cancelled" : "skipped");

    let strategy: ExpandedStrategy;
    try {
      const raw = job.strategy ? await evaluateToken(job.strategy, jobContexts, {}) : undefined;
      const expanded = expandMatrix(raw ?? undefined, { location: job.location });
      if (!expanded.value) throw new Error(expanded.diagnostics.map(formatDiagnostic).join("\n"));
      strategy = expanded.value;
    } catch (err) {
      return finishWithoutRunning("failure", err instanceof Error ? err.message : String(err));
    }
    let legs = strategy.legs;
    if (input.matrix && Object.keys(input.matrix).length > 0 && job.strategy) {
      legs = legs.filter((leg) =>
        Object.entries(input.matrix ?? {}).every(
          ([k, v]) => k in leg.values && jsonText(leg.values[k]) === v,
        ),
      );
      if (legs.length === 0) return finishWithoutRunning("skipped");
    }

    const hasMatrix =
      job.strategy !== undefined &&
      strategy.total > 0 &&
      Object.keys(strategy.legs[0]?.values ?? {}).length > 0;
    const legLimit: ConcurrencyLimit = createConcurrencyLimit(strategy.maxParallel);
    const failFast = new AbortController();
    const onOuter = () => failFast.abort(input.signal.reason);
    if (input.signal.aborted) failFast.abort(input.signal.reason);
    else input.signal.addEventListener("abort", onOuter, { once: true });

    const legResults: Record<string, JobRunOutput> = {};
    const outputs: Record<string, string> = {};
    const runLeg = async (leg: MatrixLeg): Promise<void> => {
      const jobKey = hasMatrix ? `${job.id}:${leg.index + 1}` : job.id;
      const legContexts: ExpressionContexts = {
        ...jobContexts,
        matrix: leg.values,
        strategy: strategyContext(strategy, leg),
        secrets: input.secrets,
      };
      let displayName = hasMatrix ? matrixLegName(job.id, leg) : job.id;
      if (job.name) {
        try {
          displayName = await evaluateTokenToString(job.name, legContexts, {});
        } catch {
          // Keep the default name; errors in evaluated keys surface where they matter.
        }
      }
      queued(jobKey, displayName, leg.values);
      const legStart = clock();
      const masker = createMasker(input.secrets);
      let res: JobRunOutput;
      let continueOnError = false;
      try {
        const jobEnv = job.env
          ? await evaluateTokenToEnv(job.env, { ...legContexts, env: workflowEnv }, {})
          : {};
        if (job.continueOnError !== undefined) {
          continueOnError = jsonTruthy(await evaluateToken(job.continueOnError, legContexts, {}));
        }
        const timeoutMinutes = job.timeoutMinutes
          ? Number(await evaluateToken(job.timeoutMinutes, legContexts, {}))
          : 360;
        if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) {
          throw new ActvmError(
            "INVALID_WORKFLOW",
            `${job.location.file}:${job.location.line}:${job.location.col}: timeout-minutes must be a positive number`,
            { subsystem: "run/workflow" },
          );
        }
        const runsOn = job.runsOn ? await evaluateToken(job.runsOn, legContexts, {}) : null;
        const labels = Array.isArray(runsOn)
          ? runsOn.map(String)
          : runsOn === null
            ? []
            : [String(runsOn)];
        const contexts: JobContexts = {
          github: { ...input.github, job: job.id },
          vars: input.vars,
          secrets: input.secrets,
          inputs: input.inputs,
          matrix: leg.values,
          strategy: strategyContext(strategy, leg) as Record<string, JsonValue>,
          needs,
          runner: {
            os: "Linux",
            arch: "X64",
            name: `actvm-${input.backend}`,
            environment: "self-hosted",
          },
        };
        const release = await limit.acquire(failFast.signal);
        try {
          res = await runJob(deps, {
            runId: input.runId,
            jobKey,
            displayName,
            workflow: input.workflow,
            job,
            contexts,
            env: { ...workflowEnv, ...jobEnv, ...input.envOverrides },
            defaultEnv: (vm, eventPath) => input.defaultEnv(vm, job.id, eventPath),
            eventJson: input.eventJson,
            repoDir: input.repoDir,
            network: input.network || labels.includes("network"),
            timeoutMinutes,
            masker,
            signal: failFast.signal,
          });
        } finally {
          release();
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        res = failFast.signal.aborted
          ? { result: "cancelled", outputs: {}, error: masker.mask(message) }
          : { result: "failure", outputs: {}, error: masker.mask(message) };
      }
      legResults[jobKey] = res;
      Object.assign(outputs, res.outputs);
      emit({
        type: "job.completed",
        runId: input.runId,
        jobKey,
        time: clock(),
        result: res.result,
        outputs: res.outputs,
        durationMs: clock() - legStart,
        ...(res.error ? { error: res.error } : {}),
      });
      if (res.result === "failure") {
        if (continueOnError) allowedFailures.add(jobKey);
        else if (strategy.failFast && hasMatrix)
          failFast.abort(new ActvmError("CANCELLED", `fail-fast: ${jobKey} failed`));
      }
    };

    await Promise.all(
      legs.map(async (leg) => {
        let release: (() => void) | undefined;
        try {
          release = await legLimit.acquire(failFast.signal);
        } catch {
          const jobKey = hasMatrix ? `${job.id}:${leg.index + 1}` : job.id;
          queued(jobKey, hasMatrix ? matrixLegName(job.id, leg) : job.id, leg.values);
          legResults[jobKey] = { result: "cancelled", outputs: {} };
          emit({
            type: "job.completed",
            runId: input.runId,
            jobKey,
            time: clock(),
            result: "cancelled",
            outputs: {},
            durationMs: 0,
          });
          return;
        }
        try {
          await runLeg(leg);
        } finally {
          release();
        }
      }),
    );
    input.signal.removeEventListener("abort", onOuter);

    const legValues = Object.entries(legResults);
    let result: JobResult = "success";
    if (legValues.some(([k, r]) => r.result === "failure" && !allowedFailures.has(k)))
      result = "failure";
    else if (legValues.some(([, r]) => r.result === "cancelled")) result = "cancelled";
    else if (legValues.length > 0 && legValues.every(([, r]) => r.result === "skipped"))
      result = "skipped";
    else if (legValues.some(([, r]) => r.result === "failure")) result = "success";
    return { result, outputs, legs: legResults };
  };

  const jobs = [...selected]
    .map((id) => jobsById.get(id))
    .filter((j): j is JobDef => j !== undefined);
  await Promise.all(jobs.map((j) => runOne(j)));

  const all = Object.values(summary).map((j) => j.result);
  let result: JobResult = "success";
  if (all.includes("failure")) result = "failure";
  else if (input.signal.aborted || all.includes("cancelled")) result = "cancelled";
  const durationMs = clock() - started;
  emit({ type: "run.completed", runId: input.runId, time: clock(), result, durationMs });
  return { result, jobs: summary, durationMs };
}

function strategyContext(strategy: ExpandedStrategy, leg: MatrixLeg): Record<string, JsonValue> {
  return {
    "fail-fast": strategy.failFast,
    "job-index": leg.index,
    "job-total": strategy.total,
    "max-parallel": strategy.maxParallel,
  };
}

function createMasker(secrets: Record<string, string>): SecretMasker {
  const masker = createSecretMasker();
  for (const v of Object.values(secrets)) masker.add(v);
  return masker;
}

function jsonText(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function jsonTruthy(v: JsonValue): boolean {
  return !(v === null || v === false || v === 0 || v === "");
}

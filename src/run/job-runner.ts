import path from "node:path";
import type { SessionManager } from "../sandbox/index.ts";
import { ActvmError } from "../shared/errors.ts";
import {
  evaluateCondition,
  evaluateToken,
  evaluateTokenToEnv,
  evaluateTokenToString,
  type JsonValue,
  type StepDef,
} from "../workflow/index.ts";
import type { JobResult, StepResult } from "./events.ts";
import { stepContexts, type ScopeState } from "./job-context.ts";
import { runPreSteps, runUses } from "./action-step.ts";
import { execScript, type StepExecution } from "./exec-command.ts";
import {
  DEFAULT_PATH,
  emitError,
  emitSystem,
  evalOpts,
  jsonToString,
  type JobRunInput,
  type JobRunnerDeps,
  type RunContext,
  type ScopeKind,
} from "./run-context.ts";
import { copyRepository, writeGuestFiles } from "./workspace-tar.ts";

export { GITHUB_KILL_GRACE } from "./run-context.ts";
export type { JobRunInput, JobRunnerDeps, KillGrace } from "./run-context.ts";

/** How a job ended. */
export interface JobRunOutput {
  result: JobResult;
  outputs: Record<string, string>;
  error?: string;
  backend?: string;
  vmId?: string;
}

/**
 * Runs one job leg in a fresh sandbox: copies the repository in, runs each step with GitHub's
 * semantics (conditions, env files, workflow commands, masking, timeouts, continue-on-error),
 * runs post steps, evaluates the job's outputs, and always releases the sandbox.
 *
 * @example
 * const out = await runJob(deps, { runId, jobKey: "build", job, workflow, ... });
 */
export async function runJob(deps: JobRunnerDeps, input: JobRunInput): Promise<JobRunOutput> {
  const clock = deps.clock ?? Date.now;
  const started = clock();
  const cancel = new AbortController();
  const onOuterAbort = () => cancel.abort(input.signal.reason);
  if (input.signal.aborted) cancel.abort(input.signal.reason);
  else input.signal.addEventListener("abort", onOuterAbort, { once: true });

  let session: Awaited<ReturnType<SessionManager["createSession"]>> | undefined;
  const system = (text: string) =>
    deps.emit({
      type: "step.output",
      runId: input.runId,
      jobKey: input.jobKey,
      time: clock(),
      stepIndex: -1,
      stream: "system",
      text: input.masker.mask(text),
      group: 0,
    });
  try {
    try {
      session = await deps.sessions.createSession(
        {
          label: sanitizeLabel(`${input.runId}-${input.jobKey}`),
          network: input.network,
          runsOn: [],
        },
        cancel.signal,
        { wait: true },
      );
    } catch (err) {
      if (cancel.signal.aborted)
        return { result: "cancelled", outputs: {}, error: "cancelled before start" };
      const message = err instanceof Error ? err.message : String(err);
      return { result: "failure", outputs: {}, error: input.masker.mask(message) };
    }
    const vm = session.vm;
    deps.emit({
      type: "job.started",
      runId: input.runId,
      jobKey: input.jobKey,
      time: clock(),
      backend: vm.backend,
      vmId: vm.id,
    });
    const agent = vm.agent();
    const ctx: RunContext = {
      input,
      deps,
      vm,
      agent,
      baseEnv: {},
      deadline: started + input.timeoutMinutes * 60_000,
      jobTimedOut: false,
      posts: [],
      stepCounter: 0,
      cancel,
      placed: new Set(),
      preState: new Map(),
      runSteps: (steps, scope, kind) => runSteps(ctx, steps, scope, kind),
    };
    const jobTimer = setTimeout(
      () => {
        ctx.jobTimedOut = true;
        cancel.abort(
          new ActvmError("CANCELLED", `job exceeded timeout-minutes (${input.timeoutMinutes})`),
        );
      },
      Math.max(0, ctx.deadline - clock()),
    );
    jobTimer.unref?.();
    try {
      deps.sessions.updateState(session.id, "executing");
      system(`Sandbox: ${vm.backend} (${vm.id})`);
      await copyRepository(agent, input.repoDir, vm.paths.workspace);
      const eventPath = path.posix.join(vm.paths.temp, "_github_workflow", "event.json");
      await writeGuestFiles(agent, vm.paths.temp, [{ path: eventPath, content: input.eventJson }]);
      // The sandbox decides where the workspace and temp dirs are, so the contexts that name
      // them are completed only now.
      input.contexts.github = {
        ...input.contexts.github,
        workspace: vm.paths.workspace,
        event_path: eventPath,
      };
      input.contexts.runner = {
        ...input.contexts.runner,
        temp: vm.paths.temp,
        tool_cache: vm.paths.toolCache,
      };
      ctx.baseEnv = {
        PATH: deps.basePath ?? DEFAULT_PATH,
        HOME: vm.paths.home,
        LANG: "C.UTF-8",
        ...input.defaultEnv(vm, eventPath),
      };
      const scope: ScopeState = { env: { ...input.env }, steps: {}, path: [], status: "success" };
      await runPreSteps(ctx, input.job.steps, scope);
      await runSteps(ctx, input.job.steps, scope, { kind: "job" });
      for (const post of ctx.posts.reverse()) await post.run(scope);
      const outputs = await evaluateJobOutputs(ctx, scope);
      let result: JobResult = scope.status === "success" ? "success" : scope.status;
      let error: string | undefined;
      if (ctx.jobTimedOut) {
        result = "failure";
        error = `The job exceeded the maximum execution time of ${input.timeoutMinutes} minutes.`;
      } else if (cancel.signal.aborted && result !== "failure") {
        result = "cancelled";
      }
      deps.sessions.updateState(session.id, result === "success" ? "completed" : "failed");
      return { result, outputs, backend: vm.backend, vmId: vm.id, ...(error ? { error } : {}) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.sessions.updateState(session.id, "failed");
      if (cancel.signal.aborted && !ctx.jobTimedOut) {
        return {
          result: "cancelled",
          outputs: {},
          error: input.masker.mask(message),
          backend: vm.backend,
          vmId: vm.id,
        };
      }
      return {
        result: "failure",
        outputs: {},
        error: input.masker.mask(message),
        backend: vm.backend,
        vmId: vm.id,
      };
    } finally {
      clearTimeout(jobTimer);
    }
  } finally {
    input.signal.removeEventListener("abort", onOuterAbort);
    if (session) await deps.sessions.releaseSession(session.id);
  }
}

async function runSteps(
  ctx: RunContext,
  steps: StepDef[],
  scope: ScopeState,
  kind: ScopeKind,
): Promise<void> {
  for (const step of steps) {
    await runStep(ctx, step, scope, kind);
  }
}

async function runStep(
  ctx: RunContext,
  step: StepDef,
  scope: ScopeState,
  kind: ScopeKind,
): Promise<void> {
  const { input, deps } = ctx;
  const clock = deps.clock ?? Date.now;
  const stepIndex = ctx.stepCounter++;
  const stepKey = step.id ?? `__step${stepIndex}`;
  const inputs = kind.kind === "composite" ? kind.inputs : undefined;
  const contexts = () => stepContexts(input.contexts, scope, {}, inputs);
  const started = clock();

  let name = defaultStepName(step);
  if (step.name !== undefined) {
    try {
      name = await evaluateTokenToString(step.name, contexts(), evalOpts(ctx, scope, step));
    } catch {
      // A name that fails to evaluate keeps its default; the step itself reports real errors.
    }
  }
  if (kind.kind === "composite") name = `${kind.parentName} / ${name}`;
  name = input.masker.mask(name);
  const command = input.masker.mask(describeCommand(step));

  const complete = (
    outcome: StepResult,
    conclusion: StepResult,
    extra: {
      exitCode?: number | null;
      timedOut?: boolean;
      outputs?: Record<string, string>;
      summary?: string;
    } = {},
  ) => {
    scope.steps[stepKey] = { outcome, conclusion, outputs: extra.outputs ?? {} };
    if (conclusion === "failure" && scope.status === "success") scope.status = "failure";
    deps.emit({
      type: "step.completed",
      runId: input.runId,
      jobKey: input.jobKey,
      time: clock(),
      stepIndex,
      stepId: stepKey,
      name,
      outcome,
      conclusion,
      exitCode: extra.exitCode ?? null,
      durationMs: clock() - started,
      timedOut: extra.timedOut ?? false,
      command,
      ...(extra.summary ? { summary: extra.summary } : {}),
    });
  };

  const announce = () =>
    deps.emit({
      type: "step.started",
      runId: input.runId,
      jobKey: input.jobKey,
      time: clock(),
      stepIndex,
      stepId: stepKey,
      name,
    });
  let run: boolean;
  try {
    run = await evaluateCondition(step.if, contexts(), evalOpts(ctx, scope, step));
  } catch (err) {
    announce();
    emitError(ctx, stepIndex, err);
    complete("failure", "failure");
    return;
  }
  if (!run) {
    complete("skipped", "skipped");
    return;
  }
  announce();

  let continueOnError = false;
  let timeoutMinutes: number | undefined;
  let stepEnv: Record<string, string> = {};
  try {
    if (step.continueOnError !== undefined) {
      continueOnError = truthy(
        await evaluateToken(step.continueOnError, contexts(), evalOpts(ctx, scope, step)),
      );
    }
    if (step.timeoutMinutes !== undefined) {
      const v = await evaluateToken(step.timeoutMinutes, contexts(), evalOpts(ctx, scope, step));
      timeoutMinutes = toPositiveNumber(v, "timeout-minutes", step);
    }
    if (step.env !== undefined)
      stepEnv = await evaluateTokenToEnv(step.env, contexts(), evalOpts(ctx, scope, step));
  } catch (err) {
    emitError(ctx, stepIndex, err);
    complete("failure", continueOnError ? "success" : "failure");
    return;
  }

  const finish = (res: StepExecution) => {
    let outcome: StepResult;
    if (res.cancelled) outcome = "cancelled";
    else outcome = res.ok ? "success" : "failure";
    const conclusion: StepResult = outcome === "failure" && continueOnError ? "success" : outcome;
    if (outcome === "cancelled" && scope.status === "success") scope.status = "cancelled";
    complete(outcome, conclusion, {
      exitCode: res.exitCode,
      timedOut: res.timedOut,
      outputs: res.outputs,
      ...(res.summary ? { summary: res.summary } : {}),
    });
  };

  try {
    if (step.run !== undefined) {
      const script = await evaluateTokenToString(
        step.run,
        stepContexts(input.contexts, scope, stepEnv, inputs),
        evalOpts(ctx, scope, step),
      );
      const workdir = await resolveWorkingDirectory(ctx, step, scope, stepEnv, inputs);
      const shell = step.shell ?? input.job.defaults.shell ?? input.workflow.defaults.shell;
      const res = await execScript(ctx, {
        stepIndex,
        script,
        shell,
        cwd: workdir,
        env: {
          ...scope.env,
          ...stepEnv,
          ...(kind.kind === "composite" ? { GITHUB_ACTION_PATH: kind.actionPath } : {}),
        },
        scope,
        timeoutMinutes,
      });
      finish(res);
      return;
    }
    if (step.uses !== undefined) {
      const res = await runUses(ctx, step, scope, stepIndex, name, stepEnv, timeoutMinutes, inputs);
      finish(res);
      return;
    }
    emitError(ctx, stepIndex, new Error("step has neither run nor uses"));
    complete("failure", "failure");
  } catch (err) {
    emitError(ctx, stepIndex, err);
    const cancelled = ctx.cancel.signal.aborted && !ctx.jobTimedOut;
    finish({ ok: false, cancelled, exitCode: null, timedOut: false, outputs: {} });
  }
}

async function resolveWorkingDirectory(
  ctx: RunContext,
  step: StepDef,
  scope: ScopeState,
  stepEnv: Record<string, string>,
  inputs: Record<string, JsonValue> | undefined,
): Promise<string> {
  const ws = ctx.vm.paths.workspace;
  let wd: string | undefined;
  if (step.workingDirectory !== undefined) {
    wd = await evaluateTokenToString(
      step.workingDirectory,
      stepContexts(ctx.input.contexts, scope, stepEnv, inputs),
      evalOpts(ctx, scope, step),
    );
  } else {
    wd = ctx.input.job.defaults.workingDirectory ?? ctx.input.workflow.defaults.workingDirectory;
  }
  if (!wd) return ws;
  return path.posix.isAbsolute(wd) ? wd : path.posix.join(ws, wd);
}

async function evaluateJobOutputs(
  ctx: RunContext,
  scope: ScopeState,
): Promise<Record<string, string>> {
  const job = ctx.input.job;
  if (!job.outputs) return {};
  const value = await evaluateToken(
    job.outputs,
    stepContexts(ctx.input.contexts, scope),
    evalOpts(ctx, scope),
  );
  const out: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const s = jsonToString(v);
      // GitHub drops outputs that contain a secret rather than passing them on masked.
      if (ctx.input.masker.mask(s) !== s) {
        emitSystem(ctx, -1, `Skipped output '${k}': it contains a secret.`);
        continue;
      }
      out[k] = s;
    }
  }
  return out;
}

function defaultStepName(step: StepDef): string {
  if (step.uses !== undefined) return `Run ${step.uses}`;
  const first =
    describeCommand(step)
      .split("\n")
      .find((l) => l.trim() !== "") ?? "";
  return `Run ${first.trim()}`;
}

function describeCommand(step: StepDef): string {
  if (step.uses !== undefined) return step.uses;
  if (!step.run) return "";
  const t = step.run as unknown as {
    value?: unknown;
    source?: string;
    expression?: string;
    toString(): string;
  };
  if (typeof t.value === "string") return t.value;
  // Expression tokens keep the text as written; show that rather than the generated format().
  if (typeof t.source === "string") return t.source;
  if (typeof t.expression === "string") return `\${{ ${t.expression} }}`;
  return t.toString();
}

function truthy(v: JsonValue): boolean {
  if (v === null || v === false || v === 0 || v === "") return false;
  return true;
}

function toPositiveNumber(v: JsonValue, field: string, step: StepDef): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw new ActvmError(
      "INVALID_WORKFLOW",
      `${step.location.file}:${step.location.line}:${step.location.col}: ${field} must be a positive number, got ${JSON.stringify(v)}`,
      { subsystem: "run/job" },
    );
  }
  return n;
}

function sanitizeLabel(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 64);
}

import path from "node:path";
import {
  evaluateCondition,
  evaluateTokenToEnv,
  evaluateTokenToString,
  type ActionDef,
  type JsonValue,
  type StepDef,
} from "../workflow/index.ts";
import { ActvmError } from "../shared/errors.ts";
import type { StepResult } from "./events.ts";
import { stepContexts, type ScopeState } from "./job-context.ts";
import type { ResolvedActionDir } from "./action-resolver.ts";
import { tarDirectory } from "./workspace-tar.ts";
import { execCommand, type StepExecution } from "./exec-command.ts";
import { CHECKOUT, emitSystem, evalOpts, jsonToString, type RunContext } from "./run-context.ts";

/** Runs a `uses:` step: checkout natively, composite actions step by step, JavaScript actions with node. */
export async function runUses(
  ctx: RunContext,
  step: StepDef,
  scope: ScopeState,
  stepIndex: number,
  name: string,
  stepEnv: Record<string, string>,
  timeoutMinutes: number | undefined,
  parentInputs: Record<string, JsonValue> | undefined,
): Promise<StepExecution> {
  const { input } = ctx;
  const uses = step.uses ?? "";
  const contexts = stepContexts(input.contexts, scope, stepEnv, parentInputs);
  const withValues: Record<string, string> = step.with
    ? await evaluateTokenToEnv(step.with, contexts, evalOpts(ctx, scope, step))
    : {};
  if (CHECKOUT.test(uses)) {
    emitSystem(
      ctx,
      stepIndex,
      "actions/checkout: the workspace already holds the repository; nothing to fetch.",
    );
    return { ok: true, cancelled: false, exitCode: 0, timedOut: false, outputs: {} };
  }
  const resolved = await ctx.deps.actions.resolve(uses, input.repoDir);
  const action = resolved.manifest;
  const actionInputs = await resolveActionInputs(
    ctx,
    scope,
    action,
    withValues,
    step,
    parentInputs,
  );
  if (action.runs.using === "composite") {
    const guestDir = await placeAction(ctx, resolved);
    const inner: ScopeState = {
      env: { ...scope.env, ...stepEnv },
      steps: {},
      path: scope.path,
      status: "success",
    };
    await ctx.runSteps(action.runs.steps, inner, {
      kind: "composite",
      actionPath: guestDir,
      inputs: actionInputs,
      parentName: name,
    });
    const outputs: Record<string, string> = {};
    for (const out of action.outputs) {
      if (out.value === undefined) continue;
      const v = await evaluateTokenToString(
        out.value,
        stepContexts(input.contexts, inner, {}, actionInputs),
        evalOpts(ctx, inner),
      );
      outputs[out.id] = v;
    }
    // GITHUB_ENV written inside a composite reaches the caller, like GitHub.
    for (const [k, v] of Object.entries(inner.env)) {
      if (scope.env[k] !== v && stepEnv[k] !== v) scope.env[k] = v;
    }
    const ok = inner.status === "success";
    return {
      ok,
      cancelled: inner.status === "cancelled",
      exitCode: ok ? 0 : 1,
      timedOut: false,
      outputs,
    };
  }
  if (action.runs.using === "docker") {
    throw new ActvmError(
      "ACTION_RESOLVE",
      `${uses} is a Docker container action; actvm does not run containers`,
      {
        subsystem: "run/actions",
        hint: "use a JavaScript or composite action, or a run: step",
      },
    );
  }
  // JavaScript action: main now, post (if any) after the job's steps, in reverse order.
  const js = await prepareNodeAction(ctx, resolved, actionInputs, { ...scope.env, ...stepEnv });
  const state = ctx.preState.get(step) ?? {};
  const res = await execCommand(ctx, {
    stepIndex,
    argv: ["node", path.posix.join(js.guestDir, js.runs.main)],
    files: [],
    cwd: ctx.vm.paths.workspace,
    env: js.env,
    extraEnv: { ...js.inputEnv, ...stateEnv(state) },
    scope,
    timeoutMinutes,
    state,
  });
  const post = js.runs.post;
  if (post) {
    ctx.posts.push({
      name: `Post ${name}`,
      run: (jobScope) =>
        runNodeHook(ctx, jobScope, {
          phase: "post",
          name: `Post ${name}`,
          step,
          script: post,
          condition: js.runs.postIf ?? "always()",
          js,
          state,
          timeoutMinutes,
        }),
    });
  }
  return res;
}

/** A JavaScript action placed in the sandbox with its inputs as `INPUT_*` variables. */
interface PreparedNodeAction {
  guestDir: string;
  runs: Extract<ActionDef["runs"], { main: string }>;
  inputEnv: Record<string, string>;
  env: Record<string, string>;
}

async function prepareNodeAction(
  ctx: RunContext,
  resolved: ResolvedActionDir,
  inputs: Record<string, JsonValue>,
  env: Record<string, string>,
): Promise<PreparedNodeAction> {
  const runs = resolved.manifest.runs;
  if (!("main" in runs)) {
    throw new ActvmError("ACTION_RESOLVE", `${resolved.key} is not a JavaScript action`, {
      subsystem: "run/actions",
    });
  }
  const guestDir = await placeAction(ctx, resolved);
  const inputEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) {
    inputEnv[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = jsonToString(v);
  }
  return { guestDir, runs, inputEnv, env: { ...env, GITHUB_ACTION_PATH: guestDir } };
}

function stateEnv(state: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(state)) out[`STATE_${k}`] = v;
  return out;
}

/**
 * Runs a JavaScript action's `pre` or `post` script as a step of its own, when its condition
 * (`pre-if`/`post-if`, default `always()`) holds. State saved by `pre` reaches main and post.
 */
async function runNodeHook(
  ctx: RunContext,
  scope: ScopeState,
  hook: {
    phase: "pre" | "post";
    name: string;
    step: StepDef;
    script: string;
    condition: string;
    js: PreparedNodeAction;
    state: Record<string, string>;
    timeoutMinutes: number | undefined;
  },
): Promise<void> {
  const { input, deps } = ctx;
  const clock = deps.clock ?? Date.now;
  const hookStep: StepDef = { ...hook.step, if: hook.condition, run: undefined, uses: undefined };
  const run = await evaluateCondition(
    hook.condition,
    stepContexts(input.contexts, scope),
    evalOpts(ctx, scope, hookStep),
  );
  if (!run) return;
  const idx = ctx.stepCounter++;
  const stepId = `${hook.phase}-${hook.step.index}`;
  const started = clock();
  deps.emit({
    type: "step.started",
    runId: input.runId,
    jobKey: input.jobKey,
    time: started,
    stepIndex: idx,
    stepId,
    name: hook.name,
  });
  const r = await execCommand(ctx, {
    stepIndex: idx,
    argv: ["node", path.posix.join(hook.js.guestDir, hook.script)],
    files: [],
    cwd: ctx.vm.paths.workspace,
    env: hook.js.env,
    extraEnv: { ...hook.js.inputEnv, ...stateEnv(hook.state) },
    scope,
    timeoutMinutes: hook.timeoutMinutes,
    state: hook.state,
  });
  const outcome: StepResult = r.ok ? "success" : "failure";
  if (!r.ok && scope.status === "success") scope.status = "failure";
  deps.emit({
    type: "step.completed",
    runId: input.runId,
    jobKey: input.jobKey,
    time: clock(),
    stepIndex: idx,
    stepId,
    name: hook.name,
    outcome,
    conclusion: outcome,
    exitCode: r.exitCode,
    durationMs: clock() - started,
    timedOut: r.timedOut,
    command: `${hook.step.uses ?? ""} (${hook.phase})`,
  });
}

/**
 * GitHub runs every JavaScript action's `pre` script when the job starts, before the first
 * step. Actions that cannot be resolved here are left for their step to report.
 */
export async function runPreSteps(
  ctx: RunContext,
  steps: StepDef[],
  scope: ScopeState,
): Promise<void> {
  for (const step of steps) {
    if (step.uses === undefined || CHECKOUT.test(step.uses)) continue;
    let resolved: ResolvedActionDir;
    try {
      resolved = await ctx.deps.actions.resolve(step.uses, ctx.input.repoDir);
    } catch {
      continue;
    }
    const runs = resolved.manifest.runs;
    if (!("main" in runs) || !runs.pre) continue;
    const contexts = stepContexts(ctx.input.contexts, scope);
    const stepEnv = step.env
      ? await evaluateTokenToEnv(step.env, contexts, evalOpts(ctx, scope, step))
      : {};
    const withValues = step.with
      ? await evaluateTokenToEnv(step.with, contexts, evalOpts(ctx, scope, step))
      : {};
    const inputs = await resolveActionInputs(
      ctx,
      scope,
      resolved.manifest,
      withValues,
      step,
      undefined,
    );
    const js = await prepareNodeAction(ctx, resolved, inputs, { ...scope.env, ...stepEnv });
    const state: Record<string, string> = {};
    ctx.preState.set(step, state);
    await runNodeHook(ctx, scope, {
      phase: "pre",
      name: `Pre ${step.uses}`,
      step,
      script: runs.pre,
      condition: runs.preIf ?? "always()",
      js,
      state,
      timeoutMinutes: undefined,
    });
  }
}

async function resolveActionInputs(
  ctx: RunContext,
  scope: ScopeState,
  action: ActionDef,
  withValues: Record<string, string>,
  step: StepDef,
  parentInputs: Record<string, JsonValue> | undefined,
): Promise<Record<string, JsonValue>> {
  const out: Record<string, JsonValue> = {};
  const declared = new Set(action.inputs.map((i) => i.id.toLowerCase()));
  for (const def of action.inputs) {
    const given = Object.entries(withValues).find(
      ([k]) => k.toLowerCase() === def.id.toLowerCase(),
    );
    if (given) {
      out[def.id] = given[1];
    } else if (def.default !== undefined) {
      out[def.id] =
        typeof def.default === "string"
          ? def.default
          : await evaluateTokenToString(
              def.default,
              stepContexts(ctx.input.contexts, scope, {}, parentInputs),
              evalOpts(ctx, scope, step),
            );
    } else if (def.required) {
      throw new ActvmError(
        "ACTION_RESOLVE",
        `input '${def.id}' is required by ${step.uses ?? "the action"}`,
        {
          subsystem: "run/actions",
          hint: `add it under with: at ${step.location.file}:${step.location.line}`,
        },
      );
    } else {
      out[def.id] = "";
    }
  }
  // Undeclared inputs are passed through, as GitHub does (with a warning there).
  for (const [k, v] of Object.entries(withValues)) {
    if (!declared.has(k.toLowerCase())) out[k] = v;
  }
  return out;
}

/** Copies an action's directory into the sandbox once per job and returns its guest path. */
async function placeAction(ctx: RunContext, resolved: ResolvedActionDir): Promise<string> {
  const guestDir = path.posix.join(ctx.vm.paths.actions, resolved.key);
  if (resolved.local) {
    // Local actions live in the repository, which is already in the workspace.
    return path.posix.join(ctx.vm.paths.workspace, resolved.relativePath ?? "");
  }
  if (!ctx.placed.has(resolved.key)) {
    await ctx.agent.putTar(guestDir, tarDirectory(resolved.dir));
    ctx.placed.add(resolved.key);
  }
  return guestDir;
}

import { randomUUID } from "node:crypto";
import path from "node:path";
import type { ExecHandle, ExecResult } from "../guest/index.ts";
import { ActvmError } from "../shared/errors.ts";
import type { ScopeState } from "./job-context.ts";
import { resolveShell, shellArgv } from "./shell.ts";
import { createOutputPipeline } from "./step-output.ts";
import { parseEnvFile, parsePathFile, type EnvFileKind } from "./env-files.ts";
import type { Annotation } from "./events.ts";
import {
  DEFAULT_PATH,
  emitAnnotation,
  GITHUB_KILL_GRACE,
  sleep,
  type KillGrace,
  type RunContext,
} from "./run-context.ts";

/** How a step's command ended, with what its env files and commands produced. */
export interface StepExecution {
  ok: boolean;
  cancelled: boolean;
  exitCode: number | null;
  timedOut: boolean;
  outputs: Record<string, string>;
  summary?: string;
}

interface ExecScriptInput {
  stepIndex: number;
  script: string;
  shell: string | undefined;
  cwd: string;
  env: Record<string, string>;
  scope: ScopeState;
  timeoutMinutes: number | undefined;
}

/** Runs a script file with the step's shell, env files and output processing. */
export async function execScript(ctx: RunContext, x: ExecScriptInput): Promise<StepExecution> {
  const shell = resolveShell(x.shell);
  const scriptPath = path.posix.join(ctx.vm.paths.temp, `${randomUUID()}${shell.extension}`);
  return execCommand(ctx, {
    stepIndex: x.stepIndex,
    argv: shellArgv(shell, scriptPath),
    files: [{ path: scriptPath, content: x.script, mode: 0o755 }],
    cwd: x.cwd,
    env: x.env,
    scope: x.scope,
    timeoutMinutes: x.timeoutMinutes,
  });
}

interface ExecCommandInput {
  stepIndex: number;
  argv: string[];
  files: { path: string; content: string; mode?: number }[];
  cwd: string;
  env: Record<string, string>;
  scope: ScopeState;
  timeoutMinutes: number | undefined;
  /** Extra variables set only for this command (INPUT_*, STATE_*). */
  extraEnv?: Record<string, string>;
  /** Collect GITHUB_STATE into this record (JavaScript actions' pre/main). */
  state?: Record<string, string>;
}

/** Runs one command in the sandbox and applies its env files to the scope. */
export async function execCommand(ctx: RunContext, x: ExecCommandInput): Promise<StepExecution> {
  const { input, deps } = ctx;
  const clock = deps.clock ?? Date.now;
  const dir = path.posix.join(ctx.vm.paths.temp, "_runner_file_commands");
  const id = randomUUID();
  const files = {
    GITHUB_ENV: path.posix.join(dir, `set_env_${id}`),
    GITHUB_OUTPUT: path.posix.join(dir, `set_output_${id}`),
    GITHUB_PATH: path.posix.join(dir, `add_path_${id}`),
    GITHUB_STATE: path.posix.join(dir, `save_state_${id}`),
    GITHUB_STEP_SUMMARY: path.posix.join(dir, `step_summary_${id}`),
  };
  const env: Record<string, string> = {
    ...ctx.baseEnv,
    ...x.env,
    ...(x.extraEnv ?? {}),
    ...files,
  };
  env.PATH = [...x.scope.path, env.PATH ?? ctx.baseEnv.PATH ?? DEFAULT_PATH].join(":");

  const remaining = ctx.deadline - clock();
  let timeoutMs = x.timeoutMinutes !== undefined ? x.timeoutMinutes * 60_000 : remaining;
  timeoutMs = Math.max(1, Math.min(timeoutMs, remaining));
  const stepTimeoutApplies =
    x.timeoutMinutes !== undefined && x.timeoutMinutes * 60_000 <= remaining;
  const grace = deps.grace ?? GITHUB_KILL_GRACE;

  const pipeline = createOutputPipeline({
    masker: input.masker,
    debug: deps.debug ?? false,
    emit: (event) =>
      deps.emit({
        ...event,
        runId: input.runId,
        jobKey: input.jobKey,
        time: clock(),
        stepIndex: x.stepIndex,
      } as never),
  });

  // Steps that only run because of always()/cancelled() must not be cut short by the very
  // cancellation that let them run, so only listen for aborts that arrive after the start.
  const alreadyCancelled = ctx.cancel.signal.aborted;
  let handle: ExecHandle | undefined;
  let cancelled = false;
  const onAbort = () => {
    if (!handle) return;
    cancelled = true;
    void escalate(handle, grace);
  };
  if (!alreadyCancelled) ctx.cancel.signal.addEventListener("abort", onAbort, { once: true });
  let result: ExecResult;
  try {
    handle = ctx.agent.exec(
      {
        argv: x.argv,
        cwd: x.cwd,
        env,
        files: [...Object.values(files).map((p) => ({ path: p, content: "" })), ...x.files],
        collect: Object.values(files),
        timeoutMs,
        graceMs: grace,
      },
      {
        onStdout: (c) => pipeline.write("stdout", c),
        onStderr: (c) => pipeline.write("stderr", c),
      },
    );
    result = await handle.result;
  } finally {
    ctx.cancel.signal.removeEventListener("abort", onAbort);
  }
  const commands = pipeline.end();
  const [envFile, outputFile, pathFile, stateFile, summaryFile] = result.collected;

  const outputs: Record<string, string> = { ...commands.outputs };
  // Errors in an env file fail the step (as on GitHub); warnings are only shown.
  const problems: Annotation[] = [];
  const apply = (
    content: string | null | undefined,
    file: string,
    kind: EnvFileKind,
    into: (k: string, v: string) => void,
  ) => {
    if (!content) return;
    const parsed = parseEnvFile(content, { file, kind });
    for (const d of parsed.diagnostics) {
      problems.push({
        level: d.severity === "error" ? "error" : "warning",
        message: `${file}:${d.line ?? 0}: ${d.message}`,
      });
    }
    for (const { key, value } of parsed.values) into(key, value);
  };
  apply(envFile, "GITHUB_ENV", "env", (k, v) => {
    x.scope.env[k] = v;
  });
  apply(outputFile, "GITHUB_OUTPUT", "output", (k, v) => {
    outputs[k] = v;
  });
  if (x.state) {
    Object.assign(x.state, commands.state);
    apply(stateFile, "GITHUB_STATE", "state", (k, v) => {
      x.state![k] = v;
    });
  }
  if (pathFile) {
    for (const p of parsePathFile(pathFile).reverse()) x.scope.path.unshift(p);
  }
  for (const annotation of problems) emitAnnotation(ctx, x.stepIndex, annotation);
  const summary = summaryFile ? input.masker.mask(summaryFile) : undefined;
  if (result.timedOut) {
    const why = stepTimeoutApplies
      ? `The step exceeded timeout-minutes (${x.timeoutMinutes}).`
      : `The job exceeded timeout-minutes (${input.timeoutMinutes}).`;
    if (!stepTimeoutApplies) {
      ctx.jobTimedOut = true;
      ctx.cancel.abort(new ActvmError("CANCELLED", why));
    }
    emitAnnotation(ctx, x.stepIndex, { level: "error", message: why });
  }
  const ok =
    result.exitCode === 0 &&
    !result.timedOut &&
    !problems.some((p) => p.level === "error") &&
    !commands.failed;
  return {
    ok,
    cancelled: cancelled && !ctx.jobTimedOut,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    outputs,
    ...(summary ? { summary } : {}),
  };
}

async function escalate(handle: ExecHandle, grace: KillGrace): Promise<void> {
  let done = false;
  void handle.result.then(
    () => (done = true),
    () => (done = true),
  );
  try {
    await handle.kill("SIGINT");
    await sleep(grace.interrupt);
    if (done) return;
    await handle.kill("SIGTERM");
    await sleep(grace.terminate);
    if (done) return;
    await handle.kill("SIGKILL");
  } catch {
    // The command ended or the agent went away; either way there is nothing left to signal.
  }
}

import type { AgentClient } from "../guest/index.ts";
import type { SessionManager, Vm } from "../sandbox/index.ts";
import type {
  EvaluateOptions,
  JobDef,
  JsonValue,
  StepDef,
  WorkflowDef,
} from "../workflow/index.ts";
import type { Annotation, RunEventSink } from "./events.ts";
import type { JobContexts, ScopeState } from "./job-context.ts";
import type { SecretMasker } from "./secret-masker.ts";
import type { ActionResolver } from "./action-resolver.ts";

/** Grace periods between SIGINT, SIGTERM and SIGKILL when a step is cancelled or times out. */
export interface KillGrace {
  interrupt: number;
  terminate: number;
}

/** GitHub's runner waits 7.5 s after SIGINT and 2.5 s after SIGTERM. */
export const GITHUB_KILL_GRACE: KillGrace = { interrupt: 7500, terminate: 2500 };

/** Everything a job needs from the outside world. */
export interface JobRunnerDeps {
  sessions: SessionManager;
  actions: ActionResolver;
  emit: RunEventSink;
  clock?: () => number;
  grace?: KillGrace;
  /** Base PATH inside the sandbox, before GITHUB_PATH additions. */
  basePath?: string;
  debug?: boolean;
}

/** One job execution (a single matrix leg). */
export interface JobRunInput {
  runId: string;
  jobKey: string;
  displayName: string;
  workflow: WorkflowDef;
  job: JobDef;
  contexts: JobContexts;
  /** Workflow-level env evaluated, then job env, then `--env` overrides. */
  env: Record<string, string>;
  /** Builds GitHub's default variables (GITHUB_*, RUNNER_*) once the sandbox paths are known. */
  defaultEnv: (vm: Vm, eventPath: string) => Record<string, string>;
  /** The event payload, written to GITHUB_EVENT_PATH inside the sandbox. */
  eventJson: string;
  /** Host directory copied into the workspace before the first step. */
  repoDir: string;
  network: boolean;
  timeoutMinutes: number;
  masker: SecretMasker;
  signal: AbortSignal;
}

/** A step queued to run after the job's steps (JavaScript actions' `post`). */
export interface PostStep {
  name: string;
  run: (scope: ScopeState) => Promise<void>;
}

/** The state of one executing job, shared by the files that run its steps. */
export interface RunContext {
  input: JobRunInput;
  deps: JobRunnerDeps;
  vm: Vm;
  agent: AgentClient;
  baseEnv: Record<string, string>;
  deadline: number;
  /** Set when the job's own timeout expired (as opposed to cancellation from outside). */
  jobTimedOut: boolean;
  posts: PostStep[];
  stepCounter: number;
  /** Aborted on outside cancellation or job timeout. */
  cancel: AbortController;
  /** Remote actions already copied into the sandbox, by key. */
  placed: Set<string>;
  /** State saved by JavaScript actions' `pre` scripts, for their main and post. */
  preState: Map<StepDef, Record<string, string>>;
  /** Runs a list of steps in a scope; composite actions call back into it. */
  runSteps: (steps: StepDef[], scope: ScopeState, kind: ScopeKind) => Promise<void>;
}

/** PATH inside a sandbox before GITHUB_PATH additions. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** `actions/checkout` is handled natively: the workspace already holds the repository. */
export const CHECKOUT = /^actions\/checkout@/i;

/** Whether steps run at job level or inside a composite action (with its inputs). */
export type ScopeKind =
  | { kind: "job" }
  | {
      kind: "composite";
      actionPath: string;
      inputs: Record<string, JsonValue>;
      parentName: string;
    };

/** Evaluation options for a step: status functions from the scope, hashFiles in the sandbox. */
export function evalOpts(ctx: RunContext, scope: ScopeState, step?: StepDef): EvaluateOptions {
  return {
    status: { status: ctx.cancel.signal.aborted ? "cancelled" : scope.status },
    hashFiles: (patterns) => ctx.agent.hashFiles(ctx.vm.paths.workspace, patterns),
    ...(step ? { location: step.location } : {}),
  };
}

/** Reports an annotation on a step, with its texts masked. */
export function emitAnnotation(ctx: RunContext, stepIndex: number, annotation: Annotation): void {
  const mask = ctx.input.masker.mask.bind(ctx.input.masker);
  ctx.deps.emit({
    type: "step.annotation",
    runId: ctx.input.runId,
    jobKey: ctx.input.jobKey,
    time: (ctx.deps.clock ?? Date.now)(),
    stepIndex,
    annotation: {
      ...annotation,
      message: mask(annotation.message),
      ...(annotation.title !== undefined ? { title: mask(annotation.title) } : {}),
    },
  });
}

/** Reports an error as an annotation of the step, masked. */
export function emitError(ctx: RunContext, stepIndex: number, err: unknown): void {
  emitAnnotation(ctx, stepIndex, {
    level: "error",
    message: err instanceof Error ? err.message : String(err),
  });
}

/** Prints an actvm message into the step's log, masked. */
export function emitSystem(ctx: RunContext, stepIndex: number, text: string): void {
  ctx.deps.emit({
    type: "step.output",
    runId: ctx.input.runId,
    jobKey: ctx.input.jobKey,
    time: (ctx.deps.clock ?? Date.now)(),
    stepIndex,
    stream: "system",
    text: ctx.input.masker.mask(text),
    group: 0,
  });
}

/** GitHub's coercion of a value to an environment string. */
export function jsonToString(v: JsonValue): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

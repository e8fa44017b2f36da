import type { ExpressionContexts, JsonValue } from "../workflow/index.ts";
import type { JobResult, StepResult } from "./events.ts";

/** What a later step sees of an earlier one in the `steps` context. */
export interface StepState {
  outcome: StepResult;
  conclusion: StepResult;
  outputs: Record<string, string>;
}

/** What a dependent job sees of a finished one in the `needs` context. */
export interface NeedState {
  result: JobResult;
  outputs: Record<string, string>;
}

/** The mutable state of one executing scope: a job, or a composite action inside it. */
export interface ScopeState {
  /** `env` as the next step sees it (workflow < job < GITHUB_ENV). */
  env: Record<string, string>;
  steps: Record<string, StepState>;
  /** Directories added through GITHUB_PATH, most recent first. */
  path: string[];
  /** "success" until a step fails without continue-on-error. */
  status: "success" | "failure" | "cancelled";
}

/** Fixed contexts of a job; `env`, `steps` and `job.status` come from the scope. */
export interface JobContexts {
  github: Record<string, JsonValue>;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  inputs: Record<string, JsonValue>;
  matrix: Record<string, JsonValue>;
  strategy: Record<string, JsonValue>;
  needs: Record<string, NeedState>;
  runner: Record<string, JsonValue>;
}

/** Assembles the expression contexts for a step in `scope`. */
export function stepContexts(
  job: JobContexts,
  scope: ScopeState,
  extraEnv: Record<string, string> = {},
  inputs?: Record<string, JsonValue>,
): ExpressionContexts {
  return {
    github: job.github,
    vars: job.vars,
    secrets: job.secrets,
    inputs: inputs ?? job.inputs,
    matrix: job.matrix,
    strategy: job.strategy,
    needs: job.needs as unknown as JsonValue,
    runner: job.runner,
    env: { ...scope.env, ...extraEnv },
    steps: scope.steps as unknown as JsonValue,
    job: { status: scope.status, container: {}, services: {} },
  };
}

import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import type { EventsConfig } from "@actions/workflow-parser/model/workflow-template";

/**
 * The typed view of one workflow file that the runner executes. Built from
 * `@actions/workflow-parser`'s token tree (the converted `WorkflowTemplate` drops keys such as
 * `timeout-minutes`, `with`, `shell` and `defaults`, so those are read from the raw tokens).
 * Values that may hold `${{ }}` stay tokens and are evaluated at run time with the contexts
 * available then.
 */
export interface WorkflowDef {
  /** Absolute path of the file. */
  path: string;
  /** Path as shown to users, relative to the repository root (e.g. `.github/workflows/ci.yml`). */
  file: string;
  /** `name:` or, like GitHub, the file path when absent. */
  name: string;
  events: EventsConfig;
  env?: TemplateToken;
  defaults: RunDefaults;
  concurrency?: TemplateToken;
  jobs: JobDef[];
}

/** `defaults.run`: shell and working directory. */
export interface RunDefaults {
  shell?: string;
  workingDirectory?: string;
}

/** Where a definition sits in its file (1-based). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One job as written (before matrix expansion). */
export interface JobDef {
  id: string;
  /** `name:`; may hold `${{ matrix.* }}`. */
  name?: TemplateToken;
  needs: string[];
  /** Condition expression, already wrapped in `success() && (...)` where GitHub does so. */
  if: string;
  runsOn?: TemplateToken;
  env?: TemplateToken;
  strategy?: TemplateToken;
  outputs?: TemplateToken;
  timeoutMinutes?: TemplateToken;
  continueOnError?: TemplateToken;
  defaults: RunDefaults;
  /** `uses:` of a reusable-workflow job (not supported yet: the planner reports it). */
  uses?: string;
  steps: StepDef[];
  location: SourceLocation;
}

/** One step as written. Exactly one of `run` and `uses` is set. */
export interface StepDef {
  /** 0-based position in the job. */
  index: number;
  /** The user's `id:`, if any. */
  id?: string;
  name?: TemplateToken;
  /** Condition expression, already wrapped in `success() && (...)` where GitHub does so. */
  if: string;
  run?: TemplateToken;
  uses?: string;
  with?: TemplateToken;
  env?: TemplateToken;
  shell?: string;
  workingDirectory?: TemplateToken;
  timeoutMinutes?: TemplateToken;
  continueOnError?: TemplateToken;
  location: SourceLocation;
}

/** JSON as produced by expression and token evaluation. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The expression contexts, by lowercase name (`github`, `env`, `matrix`, ...). */
export type ExpressionContexts = Partial<Record<ContextName, JsonValue>>;

/** Every context name GitHub defines for workflows. */
export type ContextName =
  | "github"
  | "env"
  | "vars"
  | "secrets"
  | "inputs"
  | "matrix"
  | "strategy"
  | "needs"
  | "steps"
  | "job"
  | "jobs"
  | "runner";

/**
 * What the status functions see. For a step: the job's status so far. For a job: the results
 * of its `needs` (failure() is true when any needed job failed, and so on).
 */
export interface StatusState {
  /** Status so far: "success" until something failed; "cancelled" once cancellation began. */
  status: "success" | "failure" | "cancelled";
}

/** Options for evaluation. */
export interface EvaluateOptions {
  status?: StatusState;
  /**
   * Implements hashFiles(). Called with the evaluated patterns; GitHub semantics: "" when
   * nothing matches. Evaluation is synchronous in `@actions/expressions`, so evaluators first
   * collect the calls, await this, then evaluate again with the answers.
   */
  hashFiles?: (patterns: string[]) => Promise<string>;
  /**
   * Where the expression was written; error messages are prefixed with `file:line:col`. Token
   * evaluation keeps `file` and takes line and column from each token.
   */
  location?: SourceLocation;
}

/** One expanded leg of a job's matrix. */
export interface MatrixLeg {
  /** The combination, e.g. `{node: 20, os: "ubuntu"}`; `{}` for a job without matrix. */
  values: Record<string, JsonValue>;
  /** 0-based `strategy.job-index`. */
  index: number;
}

/** A job's evaluated strategy. */
export interface ExpandedStrategy {
  legs: MatrixLeg[];
  failFast: boolean;
  maxParallel: number;
  /** `strategy.job-total`. */
  total: number;
}

import type { Annotation, JobResult, StepResult } from "../run/index.ts";

/** A run is `in_progress` until its `run.completed` event (or reconciliation) ends it. */
export type RunStatus = "in_progress" | "completed";

/** A job waits in `queued` until its sandbox is up. */
export type JobStatus = "queued" | "in_progress" | "completed";

/** A step is `in_progress` from `step.started` until `step.completed`. */
export type StepStatus = "in_progress" | "completed";

/** A recorded workflow run. Times are ms since the epoch. */
export interface RunRecord {
  id: string;
  /** `github.run_number`: 1, 2, 3… per (repository, workflow file). */
  runNumber: number;
  workflow: string;
  workflowFile: string;
  event: string;
  repository: string;
  sha: string;
  ref: string;
  backend: string;
  status: RunStatus;
  result: JobResult | null;
  /** Why the run ended abnormally, e.g. the recording process died. */
  error: string | null;
  /** The process that recorded the run, so a dead owner can be detected. */
  ownerPid: number | null;
  ownerHost: string | null;
  startedAt: number;
  completedAt: number | null;
  durationMs: number | null;
}

/** A recorded job execution; matrix legs are separate records with distinct `jobKey`s. */
export interface JobRecord {
  runId: string;
  jobKey: string;
  jobId: string;
  name: string;
  matrix: Record<string, unknown> | null;
  needs: string[];
  status: JobStatus;
  result: JobResult | null;
  outputs: Record<string, string>;
  error: string | null;
  backend: string | null;
  vmId: string | null;
  queuedAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
}

/** A recorded step. `logDroppedBytes` > 0 means its output hit the per-step cap. */
export interface StepRecord {
  runId: string;
  jobKey: string;
  stepIndex: number;
  stepId: string;
  name: string;
  status: StepStatus;
  command: string | null;
  outcome: StepResult | null;
  conclusion: StepResult | null;
  exitCode: number | null;
  timedOut: boolean;
  summary: string | null;
  logBytes: number;
  logDroppedBytes: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
}

/** A job with its steps in order. */
export interface JobDetail extends JobRecord {
  steps: StepRecord[];
}

/** A run with its jobs (in the order they were queued) and their steps. */
export interface RunDetail extends RunRecord {
  jobs: JobDetail[];
}

/** One stored output line; `seq` orders the lines of a run across all its jobs. */
export interface LogLine {
  runId: string;
  seq: number;
  jobKey: string;
  /** -1 for job-level output (set-up, tear-down). */
  stepIndex: number;
  stream: "stdout" | "stderr" | "system";
  group: number;
  text: string;
  time: number;
}

/** A stored annotation with where it came from. */
export interface AnnotationRecord extends Annotation {
  runId: string;
  seq: number;
  jobKey: string;
  stepIndex: number;
  time: number;
}

/** Filters for {@link Store.listRuns}; newest runs first. */
export interface ListRunsQuery {
  /** At most this many (default 50, at most 1000). */
  limit?: number;
  /** Workflow name or workflow file path. */
  workflow?: string;
  repository?: string;
  status?: RunStatus;
  result?: JobResult;
}

/** Filters for {@link Store.getLogs}. */
export interface LogQuery {
  jobKey?: string;
  stepIndex?: number;
  /** Only lines after this seq, to follow a run that is still producing output. */
  afterSeq?: number;
}

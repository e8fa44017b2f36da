/**
 * The run event stream: the one source for the terminal view, the store, the learning layer
 * and GitHub reporting. Every text field is already masked when the event is emitted.
 */

/** A job's or run's result, as GitHub reports it in `needs.<id>.result`. */
export type JobResult = "success" | "failure" | "cancelled" | "skipped";

/** A step's outcome (before continue-on-error) or conclusion (after). */
export type StepResult = "success" | "failure" | "cancelled" | "skipped";

/** An annotation from `::error::`, `::warning::` or `::notice::`. */
export interface Annotation {
  level: "error" | "warning" | "notice";
  message: string;
  title?: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

interface Base {
  runId: string;
  /** ms since the epoch. */
  time: number;
}

/** Identifies one job execution: the job id plus, for matrix legs, `:<1-based leg>`. */
interface JobRef extends Base {
  jobKey: string;
}

/** The run event union. */
export type RunEvent =
  | (Base & {
      type: "run.started";
      workflow: string;
      workflowFile: string;
      event: string;
      repository: string;
      sha: string;
      ref: string;
      backend: string;
      /** `github.run_number` when the caller took one from the store; otherwise the store assigns it. */
      runNumber?: number;
    })
  | (JobRef & {
      type: "job.queued";
      jobId: string;
      name: string;
      matrix?: Record<string, unknown>;
      needs: string[];
    })
  | (JobRef & { type: "job.started"; backend: string; vmId: string })
  | (JobRef & { type: "step.started"; stepIndex: number; stepId: string; name: string })
  | (JobRef & {
      type: "step.output";
      /** -1 for job-level output (set-up, tear-down). */
      stepIndex: number;
      stream: "stdout" | "stderr" | "system";
      /** One line, without its newline. */
      text: string;
      /** Nesting depth from ::group::. */
      group: number;
    })
  | (JobRef & { type: "step.annotation"; stepIndex: number; annotation: Annotation })
  | (JobRef & {
      type: "step.completed";
      stepIndex: number;
      stepId: string;
      name: string;
      outcome: StepResult;
      conclusion: StepResult;
      exitCode: number | null;
      durationMs: number;
      timedOut: boolean;
      /** The executed command (masked) for `run:` steps; `uses:` reference otherwise. */
      command: string;
      /** Markdown appended to GITHUB_STEP_SUMMARY, masked. */
      summary?: string;
    })
  | (JobRef & {
      type: "job.completed";
      result: JobResult;
      outputs: Record<string, string>;
      durationMs: number;
      /** Why the job failed outside its steps (sandbox, timeout, cancellation). */
      error?: string;
    })
  | (Base & { type: "run.completed"; result: JobResult; durationMs: number });

/** Something that receives run events. Must not throw; must not block the run. */
export type RunEventSink = (event: RunEvent) => void;

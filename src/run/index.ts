/** The `run` domain: executing workflows and jobs, step semantics, masking, run events. */
export type { RunEvent, RunEventSink, JobResult, StepResult, Annotation } from "./events.ts";
export { runWorkflow } from "./workflow-runner.ts";
export type { WorkflowRunInput, WorkflowRunResult } from "./workflow-runner.ts";
export { runJob, GITHUB_KILL_GRACE } from "./job-runner.ts";
export type { JobRunnerDeps, JobRunInput, JobRunOutput, KillGrace } from "./job-runner.ts";
export { prepareLocalRun, executeLocalRun } from "./local-run.ts";
export type {
  LocalRunOptions,
  PreparedLocalRun,
  PlannedWorkflow,
  ExecuteLocalRunOptions,
  LocalWorkflowResult,
} from "./local-run.ts";
export { createActionResolver } from "./action-resolver.ts";
export type { ActionResolver, ResolvedActionDir } from "./action-resolver.ts";
export { createSecretMasker, MASK } from "./secret-masker.ts";
export type { SecretMasker, MaskStream } from "./secret-masker.ts";
export { resolveShell, shellArgv } from "./shell.ts";
export { createConcurrencyLimit } from "./concurrency-limit.ts";
export { WorkflowExecutor } from "./workflow-executor.ts";
export type {
  WorkflowContext,
  WorkflowResult,
  CommandResult,
  WorkflowExecutorConfig,
} from "./workflow-executor.ts";
export { VmCommandExecutor } from "./vm-command-executor.ts";
export type { VmCommandResult, VmCommandOptions } from "./vm-command-executor.ts";
export { parseWorkflowCommand } from "./workflow-commands.ts";
export type { WorkflowCommand } from "./workflow-commands.ts";
export { createCommandProcessor } from "./command-processor.ts";
export type {
  CommandProcessor,
  CommandProcessorOptions,
  CommandLogLine,
} from "./command-processor.ts";
export { createLineSplitter } from "./line-splitter.ts";
export type { LineSplitter } from "./line-splitter.ts";
export { parseEnvFile, parsePathFile, BLOCKED_ENV_NAMES } from "./env-files.ts";

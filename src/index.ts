/**
 * actvm's library API. The names the seed runner exposed are kept where they fit:
 * `SessionManager`, `WorkflowExecutor`, `VmCommandExecutor`, `ParsedWorkflow`, `WorkflowStep`,
 * `WorkflowContext`.
 *
 * @example
 * import { createSessionManager, createProvider, WorkflowExecutor } from "actvm";
 * const sessions = createSessionManager({ provider: createProvider("bwrap", { baseDir }), maxConcurrent: 2 });
 * const result = await new WorkflowExecutor({ sessions }).executeWorkflow(parsed, { id: "ci-1", repoDir: "." });
 */
export {
  createSessionManager,
  createProvider,
  selectBackend,
  probeBackends,
  type SessionManager,
  type Session,
  type SessionState,
  type VmProvider,
  type Vm,
  type VmSpec,
} from "./sandbox/index.ts";
export {
  WorkflowExecutor,
  type WorkflowContext,
  type WorkflowResult,
  type CommandResult,
  type WorkflowExecutorConfig,
} from "./run/index.ts";
export { VmCommandExecutor, type VmCommandResult, type VmCommandOptions } from "./run/index.ts";
export {
  runWorkflow,
  prepareLocalRun,
  executeLocalRun,
  createActionResolver,
  createSecretMasker,
  type RunEvent,
  type JobResult,
} from "./run/index.ts";
export {
  loadWorkflow,
  loadWorkflows,
  toParsedWorkflow,
  evaluateExpression,
  expandMatrix,
  type ParsedWorkflow,
  type WorkflowStep,
  type WorkflowDef,
} from "./workflow/index.ts";
export { openStore, type Store } from "./store/index.ts";
export { loadConfig, type Config } from "./shared/config.ts";
export { ActvmError, ERROR_CODES, type ErrorCode } from "./shared/errors.ts";

/**
 * One command of the seed's flat view of a job (snake_case fields are the seed's public shape).
 * `working_dir` is relative to the workspace ("." is the workspace itself, which holds the
 * repository); absolute paths are used as they are.
 */
export interface WorkflowStep {
  name: string;
  command: string;
  working_dir: string;
  continue_on_error: boolean;
  timeout_seconds: number;
}

/**
 * The seed runner's flat view of one job: environment, ordered shell commands and cache paths.
 * Kept for library users of the seed's API; the runner itself executes {@link WorkflowDef}s.
 */
export interface ParsedWorkflow {
  name: string;
  /** The first event in `on:`. */
  trigger: string;
  environment: Record<string, string>;
  setup_commands: string[];
  steps: WorkflowStep[];
  cleanup_commands: string[];
  cache_paths: string[];
}

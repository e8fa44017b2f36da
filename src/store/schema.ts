import type { Generated } from "kysely";

/**
 * The database schema as kysely sees it. Times are ms since the epoch (bigint columns, which
 * Postgres returns as strings: row mappers always pass them through `Number`). Booleans are
 * 0/1 integers so SQLite and Postgres store them the same way.
 */
export interface Database {
  runs: RunsTable;
  run_counters: RunCountersTable;
  jobs: JobsTable;
  steps: StepsTable;
  logs: LogsTable;
  annotations: AnnotationsTable;
}

/** One row per workflow run. */
export interface RunsTable {
  id: string;
  run_number: number;
  workflow: string;
  workflow_file: string;
  event: string;
  repository: string;
  sha: string;
  ref: string;
  backend: string;
  status: string;
  result: string | null;
  error: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  started_at: number;
  completed_at: number | null;
  duration_ms: number | null;
}

/** The last run number handed out per (repository, workflow file). */
export interface RunCountersTable {
  repository: string;
  workflow_file: string;
  last_number: number;
}

/** One row per job execution (matrix legs are separate rows). */
export interface JobsTable {
  run_id: string;
  job_key: string;
  seq: number;
  job_id: string;
  name: string;
  matrix: string | null;
  needs: string;
  status: string;
  result: string | null;
  outputs: string | null;
  error: string | null;
  backend: string | null;
  vm_id: string | null;
  queued_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
}

/** One row per step of a job. */
export interface StepsTable {
  run_id: string;
  job_key: string;
  step_index: number;
  step_id: string;
  name: string;
  status: string;
  command: string | null;
  outcome: string | null;
  conclusion: string | null;
  exit_code: number | null;
  timed_out: Generated<number>;
  summary: string | null;
  log_bytes: Generated<number>;
  log_dropped_bytes: Generated<number>;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
}

/** One row per output line; `seq` orders every line of a run, across jobs. */
export interface LogsTable {
  run_id: string;
  seq: number;
  job_key: string;
  step_index: number;
  stream: string;
  group_depth: number;
  text: string;
  time: number;
}

/** One row per `::error::`/`::warning::`/`::notice::`, sharing the run's `seq` with logs. */
export interface AnnotationsTable {
  run_id: string;
  seq: number;
  job_key: string;
  step_index: number;
  level: string;
  message: string;
  title: string | null;
  file: string | null;
  line: number | null;
  end_line: number | null;
  col: number | null;
  end_col: number | null;
  time: number;
}

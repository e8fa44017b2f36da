import type { Selectable } from "kysely";
import type { Annotation, JobResult, StepResult } from "../run/index.ts";
import type {
  AnnotationRecord,
  JobRecord,
  JobStatus,
  LogLine,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
} from "./records.ts";
import type { AnnotationsTable, JobsTable, LogsTable, RunsTable, StepsTable } from "./schema.ts";

// Postgres returns bigint columns as strings; SQLite returns numbers. Normalise once, here.
const num = (v: number | string): number => Number(v);
const numOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Maps a `runs` row to its public record. */
export function toRunRecord(r: Selectable<RunsTable>): RunRecord {
  return {
    id: r.id,
    runNumber: num(r.run_number),
    workflow: r.workflow,
    workflowFile: r.workflow_file,
    event: r.event,
    repository: r.repository,
    sha: r.sha,
    ref: r.ref,
    backend: r.backend,
    status: r.status as RunStatus,
    result: r.result as JobResult | null,
    error: r.error,
    ownerPid: numOrNull(r.owner_pid),
    ownerHost: r.owner_host,
    startedAt: num(r.started_at),
    completedAt: numOrNull(r.completed_at),
    durationMs: numOrNull(r.duration_ms),
  };
}

/** Maps a `jobs` row to its public record. */
export function toJobRecord(r: Selectable<JobsTable>): JobRecord {
  return {
    runId: r.run_id,
    jobKey: r.job_key,
    jobId: r.job_id,
    name: r.name,
    matrix: parseJson<Record<string, unknown> | null>(r.matrix, null),
    needs: parseJson<string[]>(r.needs, []),
    status: r.status as JobStatus,
    result: r.result as JobResult | null,
    outputs: parseJson<Record<string, string>>(r.outputs, {}),
    error: r.error,
    backend: r.backend,
    vmId: r.vm_id,
    queuedAt: numOrNull(r.queued_at),
    startedAt: numOrNull(r.started_at),
    completedAt: numOrNull(r.completed_at),
    durationMs: numOrNull(r.duration_ms),
  };
}

/** Maps a `steps` row to its public record. */
export function toStepRecord(r: Selectable<StepsTable>): StepRecord {
  return {
    runId: r.run_id,
    jobKey: r.job_key,
    stepIndex: num(r.step_index),
    stepId: r.step_id,
    name: r.name,
    status: r.status as StepStatus,
    command: r.command,
    outcome: r.outcome as StepResult | null,
    conclusion: r.conclusion as StepResult | null,
    exitCode: numOrNull(r.exit_code),
    timedOut: num(r.timed_out) !== 0,
    summary: r.summary,
    logBytes: num(r.log_bytes),
    logDroppedBytes: num(r.log_dropped_bytes),
    startedAt: numOrNull(r.started_at),
    completedAt: numOrNull(r.completed_at),
    durationMs: numOrNull(r.duration_ms),
  };
}

/** Maps a `logs` row to a log line. */
export function toLogLine(r: Selectable<LogsTable>): LogLine {
  return {
    runId: r.run_id,
    seq: num(r.seq),
    jobKey: r.job_key,
    stepIndex: num(r.step_index),
    stream: r.stream as LogLine["stream"],
    group: num(r.group_depth),
    text: r.text,
    time: num(r.time),
  };
}

/** Maps an `annotations` row to its public record, leaving out absent optional fields. */
export function toAnnotationRecord(r: Selectable<AnnotationsTable>): AnnotationRecord {
  const rec: AnnotationRecord = {
    runId: r.run_id,
    seq: num(r.seq),
    jobKey: r.job_key,
    stepIndex: num(r.step_index),
    time: num(r.time),
    level: r.level as Annotation["level"],
    message: r.message,
  };
  if (r.title !== null) rec.title = r.title;
  if (r.file !== null) rec.file = r.file;
  if (r.line !== null) rec.line = num(r.line);
  if (r.end_line !== null) rec.endLine = num(r.end_line);
  if (r.col !== null) rec.col = num(r.col);
  if (r.end_col !== null) rec.endColumn = num(r.end_col);
  return rec;
}

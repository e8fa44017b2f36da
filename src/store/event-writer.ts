import type { Insertable, Kysely, Transaction } from "kysely";
import type { RunEvent } from "../run/index.ts";
import type { Logger } from "../shared/logger.ts";
import type { AnnotationsTable, Database, JobsTable, LogsTable } from "./schema.ts";
import { nextRunNumber } from "./next-run-number.ts";
import { withWriteLock } from "./write-lock.ts";

/** A run event waiting to be written, with what the log cap knew when it was recorded. */
export interface QueuedEvent {
  event: RunEvent;
  /** For `step.completed`: output bytes stored and dropped for that step. */
  logBytes?: number;
  logDroppedBytes?: number;
}

/** Who records runs through this writer, so dead owners can be found later. */
export interface RunOwner {
  pid: number;
  host: string;
}

// 8 bound parameters per log row stays far below SQLite's 32766 and Postgres' 65535.
const ROWS_PER_INSERT = 500;

/**
 * Inserts a job row or, when the job is already recorded, applies `update` to it. A job first
 * seen through a later event gets placeholders (id from its key, no needs) plus `insertOnly`.
 */
async function upsertJob(
  trx: Transaction<Database>,
  runId: string,
  jobKey: string,
  seq: number,
  update: Partial<Insertable<JobsTable>>,
  insertOnly: Partial<Insertable<JobsTable>> = {},
): Promise<void> {
  await trx
    .insertInto("jobs")
    .values({
      run_id: runId,
      job_key: jobKey,
      seq,
      job_id: jobIdOf(jobKey),
      name: jobKey,
      needs: "[]",
      ...insertOnly,
      ...update,
    } as Insertable<JobsTable>)
    .onConflict((oc) => oc.columns(["run_id", "job_key"]).doUpdateSet(update))
    .execute();
}

function jobIdOf(jobKey: string): string {
  const colon = jobKey.indexOf(":");
  return colon < 0 ? jobKey : jobKey.slice(0, colon);
}

/**
 * Writes batches of run events in one transaction each. It keeps, per run, the next `seq`
 * (which orders logs, annotations and jobs) and only advances it when a transaction commits,
 * so a failed batch can be retried without gaps or duplicates.
 */
export class EventWriter {
  readonly #db: Kysely<Database>;
  readonly #lockKey: string | undefined;
  readonly #log: Logger;
  readonly #owner: RunOwner;
  /** Runs known to exist, with the next free seq. */
  readonly #cursors = new Map<string, number>();
  readonly #warnedMissing = new Set<string>();

  constructor(db: Kysely<Database>, lockKey: string | undefined, log: Logger, owner: RunOwner) {
    this.#db = db;
    this.#lockKey = lockKey;
    this.#log = log;
    this.#owner = owner;
  }

  /** Writes `batch` atomically: all of it or, when it throws, none of it. */
  async write(batch: readonly QueuedEvent[]): Promise<void> {
    if (batch.length === 0) return;
    const cursors = await this.#resolveCursors(batch);
    const work = () => this.#db.transaction().execute((trx) => this.#apply(trx, batch, cursors));
    await (this.#lockKey === undefined ? work() : withWriteLock(this.#lockKey, work));
    for (const [runId, seq] of cursors) this.#cursors.set(runId, seq);
    for (const { event } of batch)
      if (event.type === "run.completed") this.#cursors.delete(event.runId);
  }

  /**
   * Finds the next seq of runs this writer has not seen yet. It reads before the transaction
   * opens: a SQLite transaction that reads first and writes later fails at once with
   * SQLITE_BUSY_SNAPSHOT when another process wrote in between, instead of waiting its turn.
   */
  async #resolveCursors(batch: readonly QueuedEvent[]): Promise<Map<string, number>> {
    const cursors = new Map<string, number>();
    const unknown = new Set<string>();
    for (const { event } of batch) {
      const seq = this.#cursors.get(event.runId);
      if (seq !== undefined) cursors.set(event.runId, seq);
      else unknown.add(event.runId);
    }
    if (unknown.size === 0) return cursors;
    const ids = [...unknown];
    const existing = await this.#db
      .selectFrom("runs")
      .select("id")
      .where("id", "in", ids)
      .execute();
    if (existing.length === 0) return cursors;
    const found = existing.map((r) => r.id);
    for (const id of found) cursors.set(id, 0);
    for (const table of ["logs", "annotations", "jobs"] as const) {
      const rows = await this.#db
        .selectFrom(table)
        .select(["run_id", (eb) => eb.fn.max("seq").as("max_seq")])
        .where("run_id", "in", found)
        .groupBy("run_id")
        .execute();
      for (const r of rows) {
        const next = Number(r.max_seq) + 1;
        if (next > (cursors.get(r.run_id) ?? 0)) cursors.set(r.run_id, next);
      }
    }
    return cursors;
  }

  async #apply(
    trx: Transaction<Database>,
    batch: readonly QueuedEvent[],
    cursors: Map<string, number>,
  ): Promise<void> {
    const logRows: Insertable<LogsTable>[] = [];
    const annotationRows: Insertable<AnnotationsTable>[] = [];
    const flushRows = async (): Promise<void> => {
      for (let i = 0; i < logRows.length; i += ROWS_PER_INSERT)
        await trx
          .insertInto("logs")
          .values(logRows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      for (let i = 0; i < annotationRows.length; i += ROWS_PER_INSERT)
        await trx
          .insertInto("annotations")
          .values(annotationRows.slice(i, i + ROWS_PER_INSERT))
          .execute();
      logRows.length = 0;
      annotationRows.length = 0;
    };
    const nextSeq = (runId: string): number => {
      const seq = cursors.get(runId) ?? 0;
      cursors.set(runId, seq + 1);
      return seq;
    };

    for (const item of batch) {
      const e = item.event;
      if (!cursors.has(e.runId)) {
        if (e.type !== "run.started") {
          this.#warnMissing(e.runId, e.type);
          continue;
        }
        cursors.set(e.runId, 0);
      }
      if (e.type === "step.output") {
        logRows.push({
          run_id: e.runId,
          seq: nextSeq(e.runId),
          job_key: e.jobKey,
          step_index: e.stepIndex,
          stream: e.stream,
          group_depth: e.group,
          text: e.text,
          time: e.time,
        });
        if (logRows.length >= ROWS_PER_INSERT) await flushRows();
        continue;
      }
      if (e.type === "step.annotation") {
        const a = e.annotation;
        annotationRows.push({
          run_id: e.runId,
          seq: nextSeq(e.runId),
          job_key: e.jobKey,
          step_index: e.stepIndex,
          level: a.level,
          message: a.message,
          title: a.title ?? null,
          file: a.file ?? null,
          line: a.line ?? null,
          end_line: a.endLine ?? null,
          col: a.col ?? null,
          end_col: a.endColumn ?? null,
          time: e.time,
        });
        continue;
      }
      // Rows a statement may depend on (the run for its jobs) must exist first.
      await flushRows();
      await this.#applyLifecycle(trx, item, nextSeq);
    }
    await flushRows();
  }

  async #applyLifecycle(
    trx: Transaction<Database>,
    item: QueuedEvent,
    nextSeq: (runId: string) => number,
  ): Promise<void> {
    const e = item.event;
    switch (e.type) {
      case "run.started": {
        const runNumber = await this.#takeRunNumber(trx, e.repository, e.workflowFile, e.runNumber);
        await trx
          .insertInto("runs")
          .values({
            id: e.runId,
            run_number: runNumber,
            workflow: e.workflow,
            workflow_file: e.workflowFile,
            event: e.event,
            repository: e.repository,
            sha: e.sha,
            ref: e.ref,
            backend: e.backend,
            status: "in_progress",
            result: null,
            error: null,
            owner_pid: this.#owner.pid,
            owner_host: this.#owner.host,
            started_at: e.time,
            completed_at: null,
            duration_ms: null,
          })
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        return;
      }
      case "job.queued": {
        const values = {
          job_id: e.jobId,
          name: e.name,
          matrix: e.matrix === undefined ? null : JSON.stringify(e.matrix),
          needs: JSON.stringify(e.needs),
          queued_at: e.time,
        };
        await upsertJob(trx, e.runId, e.jobKey, nextSeq(e.runId), values, { status: "queued" });
        return;
      }
      case "job.started": {
        const values = {
          status: "in_progress",
          backend: e.backend,
          vm_id: e.vmId,
          started_at: e.time,
        };
        await upsertJob(trx, e.runId, e.jobKey, nextSeq(e.runId), values);
        return;
      }
      case "job.completed": {
        const values = {
          status: "completed",
          result: e.result,
          outputs: JSON.stringify(e.outputs),
          error: e.error ?? null,
          completed_at: e.time,
          duration_ms: e.durationMs,
        };
        await upsertJob(trx, e.runId, e.jobKey, nextSeq(e.runId), values, {
          started_at: e.time - e.durationMs,
        });
        return;
      }
      case "step.started": {
        await this.#ensureJob(trx, e.runId, e.jobKey, e.time, nextSeq);
        const values = {
          step_id: e.stepId,
          name: e.name,
          status: "in_progress",
          started_at: e.time,
        };
        await trx
          .insertInto("steps")
          .values({ run_id: e.runId, job_key: e.jobKey, step_index: e.stepIndex, ...values })
          .onConflict((oc) => oc.columns(["run_id", "job_key", "step_index"]).doUpdateSet(values))
          .execute();
        return;
      }
      case "step.completed": {
        await this.#ensureJob(trx, e.runId, e.jobKey, e.time - e.durationMs, nextSeq);
        const values = {
          step_id: e.stepId,
          name: e.name,
          status: "completed",
          command: e.command,
          outcome: e.outcome,
          conclusion: e.conclusion,
          exit_code: e.exitCode,
          timed_out: e.timedOut ? 1 : 0,
          summary: e.summary ?? null,
          log_bytes: item.logBytes ?? 0,
          log_dropped_bytes: item.logDroppedBytes ?? 0,
          completed_at: e.time,
          duration_ms: e.durationMs,
        };
        await trx
          .insertInto("steps")
          .values({
            run_id: e.runId,
            job_key: e.jobKey,
            step_index: e.stepIndex,
            started_at: e.time - e.durationMs,
            ...values,
          })
          .onConflict((oc) => oc.columns(["run_id", "job_key", "step_index"]).doUpdateSet(values))
          .execute();
        return;
      }
      case "run.completed":
        await trx
          .updateTable("runs")
          .set({
            status: "completed",
            result: e.result,
            completed_at: e.time,
            duration_ms: e.durationMs,
          })
          .where("id", "=", e.runId)
          .execute();
        return;
      case "step.output":
      case "step.annotation":
        return; // written in bulk by #apply
    }
  }

  /**
   * Returns the run number for a new run: the caller's (from {@link nextRunNumber}), which
   * also keeps the counter at or above it, or the next one from the counter.
   */
  async #takeRunNumber(
    trx: Transaction<Database>,
    repository: string,
    workflowFile: string,
    given: number | undefined,
  ): Promise<number> {
    if (given !== undefined) {
      await trx
        .insertInto("run_counters")
        .values({ repository, workflow_file: workflowFile, last_number: given })
        .onConflict((oc) =>
          oc.columns(["repository", "workflow_file"]).doUpdateSet((eb) => ({
            last_number: eb
              .case()
              .when("run_counters.last_number", "<", given)
              .then(given)
              .else(eb.ref("run_counters.last_number"))
              .end(),
          })),
        )
        .execute();
      return given;
    }
    return nextRunNumber(trx, repository, workflowFile);
  }

  /** Steps of a job that never announced itself still belong to a visible job. */
  async #ensureJob(
    trx: Transaction<Database>,
    runId: string,
    jobKey: string,
    time: number,
    nextSeq: (runId: string) => number,
  ): Promise<void> {
    await trx
      .insertInto("jobs")
      .values({
        run_id: runId,
        job_key: jobKey,
        seq: nextSeq(runId),
        job_id: jobIdOf(jobKey),
        name: jobKey,
        needs: "[]",
        status: "in_progress",
        started_at: time,
      })
      .onConflict((oc) => oc.columns(["run_id", "job_key"]).doNothing())
      .execute();
  }

  #warnMissing(runId: string, type: string): void {
    if (this.#warnedMissing.has(runId)) return;
    this.#warnedMissing.add(runId);
    this.#log.warn("dropping events of a run that was never started", { runId, type });
  }
}

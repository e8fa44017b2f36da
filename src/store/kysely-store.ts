import type { Kysely } from "kysely";
import type { RunEvent } from "../run/index.ts";
import { ActvmError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { ABANDONED_RUN_ERROR } from "./abandoned.ts";
import { EventWriter, type QueuedEvent, type RunOwner } from "./event-writer.ts";
import { LogCap } from "./log-cap.ts";
import { nextRunNumber } from "./next-run-number.ts";
import { isProcessAlive } from "./process-alive.ts";
import type {
  AnnotationRecord,
  JobDetail,
  ListRunsQuery,
  LogLine,
  LogQuery,
  RunDetail,
  RunRecord,
} from "./records.ts";
import {
  toAnnotationRecord,
  toJobRecord,
  toLogLine,
  toRunRecord,
  toStepRecord,
} from "./row-mappers.ts";
import type { Database } from "./schema.ts";
import type { Store } from "./store.ts";
import { withWriteLock } from "./write-lock.ts";

/** How the store behaves; every field has a default in `openStore`. */
export interface KyselyStoreOptions {
  log: Logger;
  owner: RunOwner;
  /** Serialises write transactions of stores sharing one database file in this process. */
  lockKey: string | undefined;
  stepLogMaxBytes: number;
  /** How long log lines may wait before they are written. */
  flushIntervalMs: number;
  now: () => number;
}

// Bounds on how much one transaction holds, so a single write never stalls the event loop long.
const MAX_BATCH = 5000;
// Past this many queued events, write now instead of waiting for the timer.
const EAGER_FLUSH_AT = 2000;
const LOG_PAGE = 1000;
const DEFAULT_RUN_LIMIT = 50;
const MAX_RUN_LIMIT = 1000;
// After this many single events in a row fail to write, the database is down, not one event bad.
const MAX_CONSECUTIVE_FAILURES = 3;

function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The {@link Store} over a kysely database; open one with `openStore`. */
export class KyselyStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #opts: KyselyStoreOptions;
  readonly #writer: EventWriter;
  readonly #cap: LogCap;
  #pending: QueuedEvent[] = [];
  /** Tail of the serial chain of drains; never rejects. */
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Events lost since the last flush(), reported by the next one. */
  #lost = 0;
  #lostReason: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #warnedClosed = false;

  constructor(db: Kysely<Database>, opts: KyselyStoreOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#writer = new EventWriter(db, opts.lockKey, opts.log, opts.owner);
    this.#cap = new LogCap(opts.stepLogMaxBytes);
  }

  async nextRunNumber(repository: string, workflowFile: string): Promise<number> {
    this.#assertOpen();
    const work = () => nextRunNumber(this.#db, repository, workflowFile);
    return this.#opts.lockKey === undefined ? work() : withWriteLock(this.#opts.lockKey, work);
  }

  recordEvent(event: RunEvent): void {
    if (this.#closed) {
      if (!this.#warnedClosed) {
        this.#warnedClosed = true;
        this.#opts.log.warn("run event recorded after the store was closed; dropped", {
          runId: event.runId,
          type: event.type,
        });
      }
      return;
    }
    try {
      this.#enqueue(event);
    } catch (err) {
      // A sink must not throw into the runner; losing one event is reported by flush().
      this.#noteLost(1, err);
    }
  }

  #enqueue(event: RunEvent): void {
    switch (event.type) {
      case "step.output": {
        const d = this.#cap.admit(event.runId, event.jobKey, event.stepIndex, event.text);
        if (d.keep !== undefined)
          this.#pending.push({ event: d.keep === event.text ? event : { ...event, text: d.keep } });
        if (d.marker)
          this.#pending.push({
            event: {
              ...event,
              stream: "system",
              text:
                `[actvm] output truncated: this step wrote more than ` +
                `${formatBytes(this.#cap.maxBytes)}; further lines are not stored ` +
                `(ACTVM_STEP_LOG_MAX_BYTES raises the limit)`,
            },
          });
        this.#schedule(false);
        return;
      }
      case "step.completed": {
        const usage = this.#cap.release(event.runId, event.jobKey, event.stepIndex);
        this.#pending.push({ event, logBytes: usage.kept, logDroppedBytes: usage.dropped });
        break;
      }
      case "job.completed":
        this.#cap.forgetJob(event.runId, event.jobKey);
        this.#pending.push({ event });
        break;
      case "run.completed":
        this.#cap.forgetRun(event.runId);
        this.#pending.push({ event });
        break;
      default:
        this.#pending.push({ event });
    }
    // State changes are written at once so other processes (`actvm runs`) see them promptly.
    this.#schedule(true);
  }

  #schedule(urgent: boolean): void {
    if (urgent || this.#pending.length >= EAGER_FLUSH_AT) {
      if (this.#immediate) return;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        void this.#kick();
      });
      return;
    }
    if (this.#timer || this.#immediate) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#kick();
    }, this.#opts.flushIntervalMs);
  }

  /** Drains the queue after any drain in progress; resolves when it is written (or given up). */
  #kick(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    const next = this.#chain.then(() => this.#drain());
    this.#chain = next.catch((err: unknown) => this.#opts.log.error("store drain failed", { err }));
    return this.#chain;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_BATCH);
      try {
        await this.#writer.write(batch);
      } catch (err) {
        await this.#recover(batch, err);
      }
    }
  }

  /**
   * A batch failed. Retry it once (the database may have been busy beyond the timeout), then
   * event by event, so one event the database rejects does not take the others with it.
   */
  async #recover(batch: QueuedEvent[], firstErr: unknown): Promise<void> {
    this.#opts.log.warn("store write failed; retrying", { err: firstErr, events: batch.length });
    await new Promise((r) => setTimeout(r, 50));
    try {
      await this.#writer.write(batch);
      return;
    } catch {
      // Fall through to isolating the bad event.
    }
    let failures = 0;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i];
      if (!item) continue;
      try {
        await this.#writer.write([item]);
        failures = 0;
      } catch (err) {
        this.#opts.log.error("dropped a run event the store could not write", {
          err,
          runId: item.event.runId,
          type: item.event.type,
        });
        this.#noteLost(1, err);
        if (++failures >= MAX_CONSECUTIVE_FAILURES) {
          const rest = batch.length - i - 1;
          if (rest > 0) {
            this.#opts.log.error("store is not accepting writes; dropped the rest of a batch", {
              events: rest,
            });
            this.#noteLost(rest, err);
          }
          return;
        }
      }
    }
  }

  #noteLost(count: number, reason: unknown): void {
    this.#lost += count;
    this.#lostReason ??= reason;
  }

  async flush(): Promise<void> {
    await this.#kick();
    if (this.#lost > 0) {
      const lost = this.#lost;
      const reason = this.#lostReason;
      this.#lost = 0;
      this.#lostReason = undefined;
      throw new ActvmError(
        "STORE",
        `${lost} run event(s) could not be recorded: ${describe(reason)}`,
        {
          subsystem: "store",
          cause: reason,
        },
      );
    }
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    await this.#settle();
    const limit = Math.min(
      Math.max(1, Math.floor(query.limit ?? DEFAULT_RUN_LIMIT)),
      MAX_RUN_LIMIT,
    );
    let q = this.#db.selectFrom("runs").selectAll();
    if (query.workflow !== undefined) {
      const w = query.workflow;
      q = q.where((eb) => eb.or([eb("workflow", "=", w), eb("workflow_file", "=", w)]));
    }
    if (query.repository !== undefined) q = q.where("repository", "=", query.repository);
    if (query.status !== undefined) q = q.where("status", "=", query.status);
    if (query.result !== undefined) q = q.where("result", "=", query.result);
    const rows = await q.orderBy("started_at", "desc").orderBy("id", "desc").limit(limit).execute();
    return rows.map(toRunRecord);
  }

  async getRun(idOrPrefix: string): Promise<RunDetail | undefined> {
    await this.#settle();
    const prefix = idOrPrefix.trim();
    if (prefix === "") return undefined;
    let row = await this.#db
      .selectFrom("runs")
      .selectAll()
      .where("id", "=", prefix)
      .executeTakeFirst();
    if (!row) {
      // substr, not LIKE: ids contain "_", which LIKE treats as a wildcard.
      const matches = await this.#db
        .selectFrom("runs")
        .selectAll()
        .where((eb) => eb(eb.fn("substr", ["id", eb.val(1), eb.val(prefix.length)]), "=", prefix))
        .orderBy("started_at", "desc")
        .limit(6)
        .execute();
      if (matches.length > 1) {
        const shown = matches.slice(0, 5).map((m) => m.id);
        throw new ActvmError(
          "USAGE",
          `run id prefix "${prefix}" is ambiguous: it matches ${shown.join(", ")}${matches.length > 5 ? ", …" : ""}`,
          { subsystem: "store", hint: "give more characters of the run id" },
        );
      }
      row = matches[0];
    }
    if (!row) return undefined;
    const [jobs, steps] = await Promise.all([
      this.#db.selectFrom("jobs").selectAll().where("run_id", "=", row.id).orderBy("seq").execute(),
      this.#db
        .selectFrom("steps")
        .selectAll()
        .where("run_id", "=", row.id)
        .orderBy("job_key")
        .orderBy("step_index")
        .execute(),
    ]);
    const details: JobDetail[] = jobs.map((j) => ({ ...toJobRecord(j), steps: [] }));
    const byKey = new Map(details.map((j) => [j.jobKey, j]));
    for (const s of steps) byKey.get(s.job_key)?.steps.push(toStepRecord(s));
    return { ...toRunRecord(row), jobs: details };
  }

  async *getLogs(runId: string, query: LogQuery = {}): AsyncGenerator<LogLine> {
    await this.#settle();
    let after = query.afterSeq ?? -1;
    for (;;) {
      let q = this.#db
        .selectFrom("logs")
        .selectAll()
        .where("run_id", "=", runId)
        .where("seq", ">", after);
      if (query.jobKey !== undefined) q = q.where("job_key", "=", query.jobKey);
      if (query.stepIndex !== undefined) q = q.where("step_index", "=", query.stepIndex);
      const rows = await q.orderBy("seq").limit(LOG_PAGE).execute();
      for (const r of rows) yield toLogLine(r);
      const last = rows.at(-1);
      if (rows.length < LOG_PAGE || !last) return;
      after = Number(last.seq);
    }
  }

  async getAnnotations(runId: string): Promise<AnnotationRecord[]> {
    await this.#settle();
    const rows = await this.#db
      .selectFrom("annotations")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("seq")
      .execute();
    return rows.map(toAnnotationRecord);
  }

  async reconcileAbandonedRuns(
    opts: { isAlive?: (pid: number) => boolean } = {},
  ): Promise<string[]> {
    await this.#settle();
    const isAlive = opts.isAlive ?? isProcessAlive;
    const { pid, host } = this.#opts.owner;
    const running = await this.#db
      .selectFrom("runs")
      .select(["id", "owner_pid", "started_at"])
      .where("status", "=", "in_progress")
      .where("owner_host", "=", host)
      .where("owner_pid", "is not", null)
      .execute();
    const dead = running.filter((r) => {
      const owner = Number(r.owner_pid);
      return owner !== pid && !isAlive(owner);
    });
    if (dead.length === 0) return [];
    const now = this.#opts.now();
    const work = () =>
      this.#db.transaction().execute(async (trx) => {
        for (const r of dead) {
          await trx
            .updateTable("runs")
            .set({
              status: "completed",
              result: "cancelled",
              error: ABANDONED_RUN_ERROR,
              completed_at: now,
              duration_ms: Math.max(0, now - Number(r.started_at)),
            })
            .where("id", "=", r.id)
            .where("status", "=", "in_progress")
            .execute();
          await trx
            .updateTable("jobs")
            .set({
              status: "completed",
              result: "cancelled",
              error: ABANDONED_RUN_ERROR,
              completed_at: now,
            })
            .where("run_id", "=", r.id)
            .where("status", "!=", "completed")
            .execute();
          await trx
            .updateTable("steps")
            .set({
              status: "completed",
              outcome: "cancelled",
              conclusion: "cancelled",
              completed_at: now,
            })
            .where("run_id", "=", r.id)
            .where("status", "!=", "completed")
            .execute();
        }
      });
    await (this.#opts.lockKey === undefined ? work() : withWriteLock(this.#opts.lockKey, work));
    for (const r of dead)
      this.#opts.log.warn("marked an abandoned run as cancelled", {
        runId: r.id,
        ownerPid: r.owner_pid,
      });
    return dead.map((r) => r.id);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        this.#closed = true;
        await this.#db.destroy();
      }
    })();
    return this.#closing;
  }

  /** Reads see every event recorded before them, even if not yet written. */
  async #settle(): Promise<void> {
    this.#assertOpen();
    if (this.#pending.length > 0 || this.#timer || this.#immediate) await this.#kick();
    else await this.#chain;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ActvmError("STORE", "the store is closed", { subsystem: "store" });
  }
}

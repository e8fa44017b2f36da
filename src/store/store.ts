import type { RunEvent } from "../run/index.ts";
import type {
  AnnotationRecord,
  ListRunsQuery,
  LogLine,
  LogQuery,
  RunDetail,
  RunRecord,
} from "./records.ts";

/**
 * The run record: consumes run events and answers questions about past and current runs.
 * Other domains use only these methods; no SQL leaves the store.
 */
export interface Store {
  /** Takes the next `github.run_number` for a workflow; pass it back in `run.started`. */
  nextRunNumber(repository: string, workflowFile: string): Promise<number>;
  /**
   * Records one run event. Never throws and returns at once: events are queued and written in
   * transactions shortly after (log lines in batches, everything else almost immediately).
   */
  recordEvent(event: RunEvent): void;
  /** Writes everything queued so far; rejects if any event since the last flush was lost. */
  flush(): Promise<void>;
  /** Runs, newest first. */
  listRuns(query?: ListRunsQuery): Promise<RunRecord[]>;
  /**
   * One run with its jobs and steps, by full id or by a prefix matching exactly one run;
   * undefined when none matches. Throws `USAGE` when a prefix matches several.
   */
  getRun(idOrPrefix: string): Promise<RunDetail | undefined>;
  /** A run's output lines in the order they were produced, read page by page. */
  getLogs(runId: string, query?: LogQuery): AsyncIterable<LogLine>;
  /** A run's annotations in the order they were produced. */
  getAnnotations(runId: string): Promise<AnnotationRecord[]>;
  /**
   * Ends runs left `in_progress` by an actvm process on this host that no longer exists:
   * they become completed/cancelled with an error saying so. Returns their ids.
   */
  reconcileAbandonedRuns(opts?: { isAlive?: (pid: number) => boolean }): Promise<string[]>;
  /** Flushes and closes the database. Events recorded afterwards are dropped with a warning. */
  close(): Promise<void>;
}

import type { Kysely, Migration } from "kysely";

/** The first schema: runs, run counters, jobs, steps, logs and annotations. */
export const initialMigration: Migration = {
  // Migrations see the database as it was when they were written, not as `Database` is now.
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("runs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("run_number", "integer", (c) => c.notNull())
      .addColumn("workflow", "text", (c) => c.notNull())
      .addColumn("workflow_file", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("repository", "text", (c) => c.notNull())
      .addColumn("sha", "text", (c) => c.notNull())
      .addColumn("ref", "text", (c) => c.notNull())
      .addColumn("backend", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("result", "text")
      .addColumn("error", "text")
      .addColumn("owner_pid", "integer")
      .addColumn("owner_host", "text")
      .addColumn("started_at", "bigint", (c) => c.notNull())
      .addColumn("completed_at", "bigint")
      .addColumn("duration_ms", "bigint")
      .execute();
    await db.schema.createIndex("runs_by_start").on("runs").columns(["started_at", "id"]).execute();
    await db.schema
      .createIndex("runs_by_workflow")
      .on("runs")
      .columns(["repository", "workflow_file", "run_number"])
      .execute();
    await db.schema.createIndex("runs_by_status").on("runs").columns(["status"]).execute();

    await db.schema
      .createTable("run_counters")
      .addColumn("repository", "text", (c) => c.notNull())
      .addColumn("workflow_file", "text", (c) => c.notNull())
      .addColumn("last_number", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("run_counters_pk", ["repository", "workflow_file"])
      .execute();

    await db.schema
      .createTable("jobs")
      .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("job_key", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("matrix", "text")
      .addColumn("needs", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("result", "text")
      .addColumn("outputs", "text")
      .addColumn("error", "text")
      .addColumn("backend", "text")
      .addColumn("vm_id", "text")
      .addColumn("queued_at", "bigint")
      .addColumn("started_at", "bigint")
      .addColumn("completed_at", "bigint")
      .addColumn("duration_ms", "bigint")
      .addPrimaryKeyConstraint("jobs_pk", ["run_id", "job_key"])
      .execute();

    await db.schema
      .createTable("steps")
      .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("job_key", "text", (c) => c.notNull())
      .addColumn("step_index", "integer", (c) => c.notNull())
      .addColumn("step_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("command", "text")
      .addColumn("outcome", "text")
      .addColumn("conclusion", "text")
      .addColumn("exit_code", "integer")
      .addColumn("timed_out", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("summary", "text")
      .addColumn("log_bytes", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("log_dropped_bytes", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("started_at", "bigint")
      .addColumn("completed_at", "bigint")
      .addColumn("duration_ms", "bigint")
      .addPrimaryKeyConstraint("steps_pk", ["run_id", "job_key", "step_index"])
      .execute();

    await db.schema
      .createTable("logs")
      .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("job_key", "text", (c) => c.notNull())
      .addColumn("step_index", "integer", (c) => c.notNull())
      .addColumn("stream", "text", (c) => c.notNull())
      .addColumn("group_depth", "integer", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("time", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("logs_pk", ["run_id", "seq"])
      .execute();
    // Replaying one job's or one step's output in order without scanning the whole run.
    await db.schema
      .createIndex("logs_by_step")
      .on("logs")
      .columns(["run_id", "job_key", "step_index", "seq"])
      .execute();

    await db.schema
      .createTable("annotations")
      .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("job_key", "text", (c) => c.notNull())
      .addColumn("step_index", "integer", (c) => c.notNull())
      .addColumn("level", "text", (c) => c.notNull())
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("title", "text")
      .addColumn("file", "text")
      .addColumn("line", "integer")
      .addColumn("end_line", "integer")
      .addColumn("col", "integer")
      .addColumn("end_col", "integer")
      .addColumn("time", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("annotations_pk", ["run_id", "seq"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ["annotations", "logs", "steps", "jobs", "run_counters", "runs"]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

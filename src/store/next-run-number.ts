import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Takes the next run number for (repository, workflow file) in one atomic statement, so two
 * processes starting the same workflow never get the same number.
 */
export async function nextRunNumber(
  db: Kysely<Database>,
  repository: string,
  workflowFile: string,
): Promise<number> {
  const row = await db
    .insertInto("run_counters")
    .values({ repository, workflow_file: workflowFile, last_number: 1 })
    .onConflict((oc) =>
      oc.columns(["repository", "workflow_file"]).doUpdateSet((eb) => ({
        last_number: eb("run_counters.last_number", "+", 1),
      })),
    )
    .returning("last_number")
    .executeTakeFirstOrThrow();
  return Number(row.last_number);
}

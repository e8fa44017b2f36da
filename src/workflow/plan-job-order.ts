import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import { findNeedsCycle } from "./find-needs-cycle.ts";
import type { WorkflowDef } from "./model.ts";

/**
 * Orders a workflow's jobs into levels: every job's `needs` lie in earlier levels, and jobs in
 * one level may run together. With `selectedJobIds` (act's `-j`), only those jobs and
 * everything they transitively need are planned. Jobs keep their file order within a level.
 *
 * @example
 * planJobOrder(workflow, ["test"]).value // [["setup"], ["build"], ["test"]]
 */
export function planJobOrder(
  workflow: WorkflowDef,
  selectedJobIds?: readonly string[],
): Parsed<string[][]> {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map(workflow.jobs.map((j) => [j.id, j]));
  for (const job of workflow.jobs) {
    for (const need of job.needs) {
      if (!byId.has(need)) {
        diagnostics.push({
          severity: "error",
          message: `job '${job.id}' needs '${need}', which is not a job in this workflow`,
          ...job.location,
          hint: "list job ids from jobs: under needs:",
        });
      }
    }
  }

  let wanted: Set<string>;
  if (selectedJobIds && selectedJobIds.length > 0) {
    wanted = new Set();
    const queue: string[] = [];
    for (const id of selectedJobIds) {
      if (!byId.has(id)) {
        diagnostics.push({
          severity: "error",
          message: `no job '${id}' in ${workflow.file}`,
          field: "-j",
          hint: `jobs are: ${workflow.jobs.map((j) => j.id).join(", ")}`,
        });
        continue;
      }
      queue.push(id);
    }
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (wanted.has(id)) continue;
      wanted.add(id);
      for (const need of byId.get(id)?.needs ?? []) if (byId.has(need)) queue.push(need);
    }
  } else {
    wanted = new Set(byId.keys());
  }

  const cycle = findNeedsCycle(workflow.jobs.filter((j) => wanted.has(j.id)));
  if (cycle) {
    const first = byId.get(cycle[0]!);
    diagnostics.push({
      severity: "error",
      message: `jobs need each other in a cycle: ${cycle.join(" → ")}`,
      ...(first ? first.location : {}),
      hint: "remove one of these needs",
    });
  }
  if (diagnostics.some((d) => d.severity === "error")) return { value: undefined, diagnostics };

  const levels: string[][] = [];
  const placed = new Set<string>();
  const order = workflow.jobs.filter((j) => wanted.has(j.id));
  while (placed.size < order.length) {
    const level = order
      .filter((j) => !placed.has(j.id) && j.needs.every((n) => placed.has(n)))
      .map((j) => j.id);
    // Unreachable after the cycle check; guards against looping forever if that ever regresses.
    if (level.length === 0) break;
    for (const id of level) placed.add(id);
    levels.push(level);
  }
  return { value: levels, diagnostics };
}

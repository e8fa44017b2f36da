import type { PreparedLocalRun } from "../run/index.ts";
import { planJobOrder } from "../workflow/index.ts";
import type { CliIo } from "./cli-io.ts";

/** `-l`: one line per job that would run, by stage, like act's list. */
export function printJobList(io: CliIo, plan: PreparedLocalRun): void {
  const rows: string[][] = [["STAGE", "JOB", "WORKFLOW", "FILE", "NEEDS"]];
  for (const { workflow } of plan.workflows) {
    const order = planJobOrder(workflow).value ?? [];
    order.forEach((stage, i) => {
      for (const id of stage) {
        const job = workflow.jobs.find((j) => j.id === id);
        rows.push([String(i), id, workflow.name, workflow.file, (job?.needs ?? []).join(",")]);
      }
    });
  }
  io.stdout.write(table(rows));
  for (const n of plan.notSelected) io.stdout.write(`(not run: ${n.file}: ${n.reason})\n`);
}

/** `-g`: the job graph of each workflow, stage by stage. */
export function printGraph(io: CliIo, plan: PreparedLocalRun): void {
  for (const { workflow } of plan.workflows) {
    io.stdout.write(`${workflow.name} (${workflow.file})\n`);
    const order = planJobOrder(workflow).value ?? [];
    order.forEach((stage, i) => {
      const boxes = stage.map((id) => {
        const needs = workflow.jobs.find((j) => j.id === id)?.needs ?? [];
        return needs.length ? `[${id}] ← ${needs.join(", ")}` : `[${id}]`;
      });
      io.stdout.write(`  ${i === 0 ? "┌" : "├"}─ ${boxes.join("   ")}\n`);
      if (i < order.length - 1) io.stdout.write("  │\n");
    });
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c] ?? 0))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

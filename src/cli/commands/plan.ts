import path from "node:path";
import type { Command } from "commander";
import { prepareLocalRun, type PreparedLocalRun } from "../../run/index.ts";
import { toParsedWorkflow, planJobOrder } from "../../workflow/index.ts";
import type { Diagnostic } from "../../shared/diagnostic.ts";
import { checkDiagnostics, collect, type CliIo } from "../cli-io.ts";
import { parseKeyValueFlags } from "../key-values.ts";

interface PlanFlags {
  workflows?: string;
  directory?: string;
  job: string[];
  eventpath?: string;
  input: string[];
  format: string;
}

/**
 * `actvm plan [EVENT]`: shows what would run without running it, as text, JSON, or the seed's
 * `ParsedWorkflow` shape (`--format seed`).
 */
export function registerPlanCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command("plan")
    .description("show the jobs and steps EVENT (default push) would run, without running them")
    .argument("[event]", "event name", "push")
    .option("-W, --workflows <path>", "workflow file or directory")
    .option("-C, --directory <dir>", "repository directory")
    .option("-j, --job <id>", "only this job (repeatable)", collect, [])
    .option("-e, --eventpath <file>", "event payload JSON")
    .option("--input <KEY=VALUE>", "workflow_dispatch input", collect, [])
    .option("--format <format>", "text, json or seed", "text")
    .action(async (event: string, flags: PlanFlags) => {
      setExit(await planCommand(io, event, flags));
    });
}

async function planCommand(io: CliIo, eventName: string, flags: PlanFlags): Promise<number> {
  const diagnostics: Diagnostic[] = [];
  if (!["text", "json", "seed"].includes(flags.format)) {
    diagnostics.push({
      severity: "error",
      field: "--format",
      message: `unknown format '${flags.format}'`,
      hint: "use text, json or seed",
    });
  }
  const inputs = parseKeyValueFlags("--input", flags.input);
  diagnostics.push(...inputs.diagnostics);
  checkDiagnostics(io, diagnostics);
  const prepared = await prepareLocalRun({
    repoDir: path.resolve(io.cwd, flags.directory ?? "."),
    eventName,
    inputs: inputs.values,
    ...(flags.workflows ? { workflowsPath: path.resolve(io.cwd, flags.workflows) } : {}),
    ...(flags.eventpath ? { eventPath: path.resolve(io.cwd, flags.eventpath) } : {}),
    ...(flags.job.length ? { jobs: flags.job } : {}),
  });
  checkDiagnostics(io, prepared.diagnostics);
  const plan = prepared.value as PreparedLocalRun;
  const selected = (ids: string[]) =>
    flags.job.length ? ids.filter((id) => flags.job.includes(id)) : ids;

  if (flags.format === "seed") {
    const out: unknown[] = [];
    for (const { workflow } of plan.workflows) {
      for (const job of workflow.jobs.filter((j) => selected([j.id]).length)) {
        const seed = await toParsedWorkflow(workflow, job.id, {});
        checkDiagnostics(io, seed.diagnostics);
        out.push({ file: workflow.file, job: job.id, workflow: seed.value });
      }
    }
    io.stdout.write(JSON.stringify(out, null, 2) + "\n");
    return 0;
  }
  if (flags.format === "json") {
    const out = plan.workflows.map(({ workflow, inputs: typed }) => ({
      file: workflow.file,
      name: workflow.name,
      inputs: typed,
      stages: planJobOrder(workflow, flags.job.length ? flags.job : undefined).value ?? [],
      jobs: workflow.jobs
        .filter((j) => selected([j.id]).length)
        .map((j) => ({
          id: j.id,
          needs: j.needs,
          steps: j.steps.map((s) => ({
            index: s.index,
            id: s.id,
            uses: s.uses,
            line: s.location.line,
          })),
        })),
    }));
    io.stdout.write(
      JSON.stringify(
        {
          event: plan.eventName,
          sha: plan.git.sha,
          ref: plan.git.ref,
          workflows: out,
          notSelected: plan.notSelected,
        },
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  for (const { workflow } of plan.workflows) {
    io.stdout.write(`${workflow.name} (${workflow.file})\n`);
    const stages = planJobOrder(workflow, flags.job.length ? flags.job : undefined).value ?? [];
    stages.forEach((stage, i) => {
      for (const id of stage) {
        const job = workflow.jobs.find((j) => j.id === id);
        if (!job) continue;
        io.stdout.write(
          `  stage ${i}: ${id}${job.needs.length ? ` (needs ${job.needs.join(", ")})` : ""}\n`,
        );
        for (const s of job.steps)
          io.stdout.write(
            `    ${s.index + 1}. ${s.uses ? `uses ${s.uses}` : "run"}${s.id ? ` [${s.id}]` : ""}  (line ${s.location.line})\n`,
          );
      }
    });
  }
  for (const n of plan.notSelected) io.stdout.write(`(not run: ${n.file}: ${n.reason})\n`);
  return 0;
}

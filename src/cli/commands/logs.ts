import type { Command } from "commander";
import { existsSync } from "node:fs";
import { openStore } from "../../store/index.ts";
import { actvmPaths } from "../../shared/paths.ts";
import { ActvmError } from "../../shared/errors.ts";
import { cliLogger, configFrom, type CliIo } from "../cli-io.ts";

/** `actvm logs RUN [JOB]`: replays a recorded run's logs (already masked when stored). */
export function registerLogsCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command("logs")
    .description("replay the logs of a recorded run (RUN may be a unique prefix of its id)")
    .argument("<run>", "run id or unique prefix")
    .argument("[job]", "job key, e.g. build or build:2")
    .option("--json", "print JSON lines")
    .action(async (runRef: string, jobKey: string | undefined, flags: { json?: boolean }) => {
      const config = configFrom(io);
      const paths = actvmPaths(config.home);
      if (!existsSync(paths.db)) {
        throw new ActvmError("NOT_FOUND", `no run '${runRef}': nothing has been recorded yet`, {
          subsystem: "cli/logs",
          hint: "run `actvm run` first",
        });
      }
      const store = await openStore({ path: paths.db, log: cliLogger(io, config) });
      try {
        const run = await store.getRun(runRef);
        if (!run) {
          throw new ActvmError("NOT_FOUND", `no run matches '${runRef}'`, {
            subsystem: "cli/logs",
            hint: "list runs with `actvm runs`",
          });
        }
        if (jobKey !== undefined && !run.jobs.some((j) => j.jobKey === jobKey)) {
          throw new ActvmError("NOT_FOUND", `run ${run.id} has no job '${jobKey}'`, {
            subsystem: "cli/logs",
            hint: `jobs: ${run.jobs.map((j) => j.jobKey).join(", ")}`,
          });
        }
        const stepNames = new Map<string, string>();
        for (const j of run.jobs)
          for (const s of j.steps) stepNames.set(`${j.jobKey}#${s.stepIndex}`, s.name);
        let lastStep = "";
        for await (const line of store.getLogs(run.id, jobKey !== undefined ? { jobKey } : {})) {
          if (flags.json) {
            io.stdout.write(JSON.stringify(line) + "\n");
            continue;
          }
          const key = `${line.jobKey}#${line.stepIndex}`;
          if (key !== lastStep) {
            const name = stepNames.get(key);
            if (name) io.stdout.write(`[${line.jobKey}] ▶ ${name}\n`);
            lastStep = key;
          }
          io.stdout.write(`[${line.jobKey}]   ${"  ".repeat(line.group)}${line.text}\n`);
        }
        if (!flags.json) {
          for (const j of run.jobs)
            io.stdout.write(
              `[${j.jobKey}] ${j.result ?? j.status}${j.error ? `: ${j.error}` : ""}\n`,
            );
          io.stdout.write(`run ${run.id}: ${run.result ?? run.status}\n`);
        }
        setExit(0);
      } finally {
        await store.close();
      }
    });
}

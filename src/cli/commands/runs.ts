import type { Command } from "commander";
import { openStore } from "../../store/index.ts";
import { actvmPaths } from "../../shared/paths.ts";
import { cliLogger, configFrom, UsageError, type CliIo } from "../cli-io.ts";
import { formatMs } from "../terminal-reporter.ts";
import { existsSync } from "node:fs";

/** `actvm runs`: lists recorded runs, newest first. */
export function registerRunsCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command("runs")
    .description("list recorded runs, newest first")
    .option("-n, --limit <n>", "how many", "20")
    .option("--json", "print JSON")
    .action(async (flags: { limit: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UsageError([
          {
            severity: "error",
            field: "--limit",
            message: `'${flags.limit}' is not a positive integer`,
            hint: "e.g. --limit 50",
          },
        ]);
      }
      const config = configFrom(io);
      const paths = actvmPaths(config.home);
      if (!existsSync(paths.db)) {
        if (flags.json) io.stdout.write("[]\n");
        else io.stdout.write("no runs recorded yet\n");
        return setExit(0);
      }
      const store = await openStore({ path: paths.db, log: cliLogger(io, config) });
      try {
        await store.reconcileAbandonedRuns();
        const runs = await store.listRuns({ limit });
        if (flags.json) {
          io.stdout.write(JSON.stringify(runs, null, 2) + "\n");
          return setExit(0);
        }
        if (runs.length === 0) {
          io.stdout.write("no runs recorded yet\n");
          return setExit(0);
        }
        const rows = [["RUN", "#", "WORKFLOW", "EVENT", "RESULT", "DURATION", "STARTED"]];
        for (const r of runs) {
          rows.push([
            r.id,
            String(r.runNumber),
            r.workflow,
            r.event,
            r.result ?? r.status,
            r.durationMs !== null && r.durationMs !== undefined ? formatMs(r.durationMs) : "",
            new Date(r.startedAt).toISOString().replace("T", " ").slice(0, 19),
          ]);
        }
        const widths = rows[0]!.map((_, c) =>
          Math.max(...rows.map((row) => (row[c] ?? "").length)),
        );
        for (const row of rows)
          io.stdout.write(
            row
              .map((cell, c) => cell.padEnd(widths[c] ?? 0))
              .join("  ")
              .trimEnd() + "\n",
          );
        setExit(0);
      } finally {
        await store.close();
      }
    });
}

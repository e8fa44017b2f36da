import type { Command } from "commander";
import { probeBackends } from "../../sandbox/index.ts";
import { actvmPaths } from "../../shared/paths.ts";
import { configFrom, type CliIo } from "../cli-io.ts";

/** `actvm doctor`: which sandbox backends work on this host, and how to fix the ones that don't. */
export function registerDoctorCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command("doctor")
    .description("report which sandbox backends work here and how to enable the others")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      const config = configFrom(io);
      const results = await probeBackends({ baseDir: actvmPaths(config.home).sandboxes });
      if (flags.json) {
        io.stdout.write(JSON.stringify(results, null, 2) + "\n");
        return setExit(0);
      }
      for (const r of results) {
        io.stdout.write(
          `${r.available ? "✓" : "✗"} ${r.name.padEnd(12)} ${r.isolation.padEnd(14)} ${r.detail}\n`,
        );
        if (!r.available && r.fix) io.stdout.write(`  fix: ${r.fix}\n`);
      }
      const best = results.find((r) => r.available);
      io.stdout.write(
        `\n--backend auto uses: ${best ? best.name : "nothing (no backend works)"}\n`,
      );
      setExit(0);
    });
}

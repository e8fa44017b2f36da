import { Command, CommanderError } from "commander";
import { registerRunCommand } from "./commands/run.ts";
import { registerPlanCommand } from "./commands/plan.ts";
import { registerRunsCommand } from "./commands/runs.ts";
import { registerLogsCommand } from "./commands/logs.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerImageCommand } from "./commands/image.ts";
import type { CliIo } from "./cli-io.ts";
import { UsageError } from "./cli-io.ts";
import { formatDiagnostic } from "../shared/diagnostic.ts";
import { isActvmError } from "../shared/errors.ts";

/** The version printed by `actvm --version`. */
export const VERSION = "0.1.0";

/**
 * Runs the actvm CLI with `argv` (without `node` and the script) and resolves to the exit
 * code: 0 success, 1 a job failed, 2 invalid input or usage.
 *
 * @example
 * process.exitCode = await main(["run", "push", "-C", "repo"]);
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const program = new Command("actvm")
    .description("Run GitHub Actions workflows, every job in its own throwaway sandbox.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run `actvm --help` for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  registerRunCommand(program, io, setExit);
  registerPlanCommand(program, io, setExit);
  registerRunsCommand(program, io, setExit);
  registerLogsCommand(program, io, setExit);
  registerDoctorCommand(program, io, setExit);
  registerImageCommand(program, io, setExit);
  for (const cmd of program.commands)
    cmd.exitOverride().showHelpAfterError("(run `actvm " + cmd.name() + " --help` for usage)");

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      for (const d of err.diagnostics) io.stderr.write(formatDiagnostic(d) + "\n");
      return 2;
    }
    if (isActvmError(err)) {
      io.stderr.write(`actvm: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ""}`);
      return err.exitCode;
    }
    io.stderr.write(
      `actvm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}

import path from "node:path";
import type { Command } from "commander";
import {
  createActionResolver,
  executeLocalRun,
  prepareLocalRun,
  type PreparedLocalRun,
  type RunEvent,
} from "../../run/index.ts";
import { createSessionManager, selectBackend, sweepLeftovers } from "../../sandbox/index.ts";
import { openStore } from "../../store/index.ts";
import { actvmPaths, ensureDirs } from "../../shared/paths.ts";
import { newRunId } from "../../shared/ids.ts";
import type { Diagnostic } from "../../shared/diagnostic.ts";
import { checkDiagnostics, cliLogger, collect, configFrom, type CliIo } from "../cli-io.ts";
import { parseKeyValueFlags, readKeyValueFile } from "../key-values.ts";
import { createTerminalReporter } from "../terminal-reporter.ts";
import { printGraph, printJobList } from "../print-plan.ts";

interface RunFlags {
  workflows?: string;
  directory?: string;
  job?: string[];
  list?: boolean;
  graph?: boolean;
  dryrun?: boolean;
  eventpath?: string;
  secret: string[];
  secretFile?: string;
  var: string[];
  varFile?: string;
  env: string[];
  envFile?: string;
  input: string[];
  matrix: string[];
  backend?: string;
  network?: boolean;
  json?: boolean;
  plain?: boolean;
  verbose?: boolean;
  maxParallel?: string;
}

/** `actvm run [EVENT]`: runs the repository's workflows for an event, like `act`. */
export function registerRunCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command("run")
    .description(
      "run the workflows that EVENT (default push) triggers, each job in a fresh sandbox",
    )
    .argument("[event]", "event name: push, pull_request, workflow_dispatch, ...", "push")
    .option("-W, --workflows <path>", "workflow file or directory", undefined)
    .option("-C, --directory <dir>", "repository directory (default: current directory)")
    .option("-j, --job <id>", "run only this job and what it needs (repeatable)", collect, [])
    .option("-l, --list", "list the jobs that would run, then exit")
    .option("-g, --graph", "draw the job graph, then exit")
    .option("-n, --dryrun", "plan and validate without running anything")
    .option("-e, --eventpath <file>", "event payload JSON, merged over the default payload")
    .option(
      "-s, --secret <KEY[=VALUE]>",
      "secret (VALUE taken from the environment when omitted)",
      collect,
      [],
    )
    .option("--secret-file <file>", "file of KEY=VALUE secrets")
    .option("--var <KEY=VALUE>", "configuration variable (vars context)", collect, [])
    .option("--var-file <file>", "file of KEY=VALUE variables")
    .option("--env <KEY=VALUE>", "environment variable for every job", collect, [])
    .option("--env-file <file>", "file of KEY=VALUE environment variables")
    .option("--input <KEY=VALUE>", "workflow_dispatch / workflow_call input", collect, [])
    .option(
      "--matrix <KEY:VALUE>",
      "run only matrix legs with this value (repeatable)",
      collect,
      [],
    )
    .option("-b, --backend <name>", "sandbox: auto, host, bwrap (default: ACTVM_BACKEND or auto)")
    .option(
      "--network",
      "give every job network access (default: off; a job may ask with runs-on label 'network')",
    )
    .option("--max-parallel <n>", "jobs running at once (default: ACTVM_MAX_PARALLEL_JOBS or CPUs)")
    .option("--json", "print run events as JSON lines")
    .option("--plain", "plain line output even on a terminal")
    .option("-v, --verbose", "show debug messages and sandbox detail")
    .action(async (event: string, flags: RunFlags) => {
      setExit(await runCommand(io, event, flags));
    });
}

async function runCommand(io: CliIo, eventName: string, flags: RunFlags): Promise<number> {
  const config = configFrom(io);
  const diagnostics: Diagnostic[] = [];
  if (!/^[a-z_]+$/.test(eventName)) {
    diagnostics.push({
      severity: "error",
      field: "EVENT",
      message: `'${eventName}' is not an event name`,
      hint: "use a GitHub event such as push, pull_request or workflow_dispatch",
    });
  }
  const secrets = await gather(
    diagnostics,
    "-s/--secret",
    flags.secret,
    flags.secretFile,
    "--secret-file",
    io.env,
  );
  const vars = await gather(diagnostics, "--var", flags.var, flags.varFile, "--var-file");
  const env = await gather(diagnostics, "--env", flags.env, flags.envFile, "--env-file");
  const inputs = parseKeyValueFlags("--input", flags.input);
  diagnostics.push(...inputs.diagnostics);
  const matrix = parseKeyValueFlags("--matrix", flags.matrix, { separator: ":" });
  diagnostics.push(...matrix.diagnostics);
  let maxParallel = config.maxParallelJobs;
  if (flags.maxParallel !== undefined) {
    const n = Number(flags.maxParallel);
    if (!Number.isInteger(n) || n < 1) {
      diagnostics.push({
        severity: "error",
        field: "--max-parallel",
        message: `'${flags.maxParallel}' is not a positive integer`,
        hint: "e.g. --max-parallel 4",
      });
    } else maxParallel = n;
  }
  const backendName = flags.backend ?? config.backend;
  if (!["auto", "host", "bwrap", "gvisor", "qemu", "firecracker", "remote"].includes(backendName)) {
    diagnostics.push({
      severity: "error",
      field: "--backend",
      message: `unknown backend '${backendName}'`,
      hint: "use auto, host or bwrap",
    });
  }
  checkDiagnostics(io, diagnostics);

  const repoDir = path.resolve(io.cwd, flags.directory ?? ".");
  const prepared = await prepareLocalRun({
    repoDir,
    eventName,
    inputs: inputs.values,
    ...(flags.workflows ? { workflowsPath: path.resolve(io.cwd, flags.workflows) } : {}),
    ...(flags.eventpath ? { eventPath: path.resolve(io.cwd, flags.eventpath) } : {}),
    ...(flags.job && flags.job.length ? { jobs: flags.job } : {}),
  });
  checkDiagnostics(io, prepared.diagnostics);
  const plan = prepared.value as PreparedLocalRun;

  if (flags.list) {
    printJobList(io, plan);
    return 0;
  }
  if (flags.graph) {
    printGraph(io, plan);
    return 0;
  }
  if (plan.workflows.length === 0) {
    io.stderr.write(`actvm: no workflow runs for '${eventName}'.\n`);
    for (const n of plan.notSelected) io.stderr.write(`  ${n.file}: ${n.reason}\n`);
    return 0;
  }
  if (flags.dryrun) {
    printJobList(io, plan);
    io.stdout.write("dry run: nothing was executed.\n");
    return 0;
  }

  const paths = actvmPaths(config.home);
  await ensureDirs(paths);
  await sweepLeftovers(paths.sandboxes);
  const selection = await selectBackend(backendName as never, {
    baseDir: paths.sandboxes,
    qemuSnapshots: config.qemuSnapshots,
    qemuWarmPool: config.qemuWarmPool,
    // One-time work (guest kernel download, VM snapshot) takes seconds: say what is happening.
    onProgress: (message) => io.stderr.write(`actvm: ${message}\n`),
  });
  if (selection.probe.isolation === "none") {
    io.stderr.write(
      `actvm: warning: backend '${selection.provider.name}' does not isolate jobs from this machine (${selection.reason})\n`,
    );
  } else if (!flags.json) {
    io.stderr.write(`actvm: backend ${selection.provider.name}: ${selection.reason}\n`);
  }
  const store = await openStore({
    path: paths.db,
    stepLogMaxBytes: config.stepLogMaxBytes,
    log: cliLogger(io, config),
  });
  await store.reconcileAbandonedRuns();
  const sessions = createSessionManager({
    provider: selection.provider,
    maxConcurrent: maxParallel,
  });
  const reporter = createTerminalReporter({
    out: io.stdout,
    mode: flags.json ? "json" : flags.plain || !io.stdout.isTTY ? "plain" : "live",
    color: Boolean(io.stdout.isTTY) && !config.noColor && !flags.json,
    verbose: Boolean(flags.verbose),
  });
  const emit = (event: RunEvent) => {
    store.recordEvent(event);
    reporter.handle(event);
  };

  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1 && sig === "SIGINT") {
      io.stderr.write(
        "\nactvm: cancelling (always() steps still run); press Ctrl-C again to stop at once\n",
      );
      abort.abort(new Error("cancelled by the user"));
    } else {
      abort.abort(new Error("cancelled by the user"));
      void sessions.stop().finally(() => process.exit(130));
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await executeLocalRun(plan, {
      deps: {
        sessions,
        actions: createActionResolver({
          cacheDir: paths.actions,
          baseUrl: config.actionsUrl,
          ...(config.actionsDir ? { localDir: config.actionsDir } : {}),
        }),
        emit,
        grace: config.killGrace,
        debug: Boolean(flags.verbose),
      },
      allocateRun: async (workflow) => {
        const runNumber = await store.nextRunNumber(plan.git.repository, workflow.file);
        return { runId: newRunId(), runNumber };
      },
      secrets: secrets,
      vars,
      env,
      ...(flags.job && flags.job.length ? { jobs: flags.job } : {}),
      ...(Object.keys(matrix.values).length ? { matrix: matrix.values } : {}),
      network: Boolean(flags.network),
      maxParallel,
      backend: selection.provider.name,
      signal: abort.signal,
      debug: Boolean(flags.verbose),
    });
    reporter.finish();
    if (!flags.json) {
      for (const r of outcome.runs)
        io.stdout.write(
          `run ${r.runId} (${r.file}): ${r.result.result} — replay with: actvm logs ${r.runId}\n`,
        );
    }
    return outcome.result === "success" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await sessions.stop();
    await store.flush();
    await store.close();
  }
}

async function gather(
  diagnostics: Diagnostic[],
  flag: string,
  items: string[],
  file: string | undefined,
  fileFlag?: string,
  fromEnv?: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  if (file) {
    const fromFile = await readKeyValueFile(fileFlag ?? flag, file);
    diagnostics.push(...fromFile.diagnostics);
    Object.assign(values, fromFile.values);
  }
  const fromFlags = parseKeyValueFlags(flag, items, fromEnv ? { fromEnv } : {});
  diagnostics.push(...fromFlags.diagnostics);
  Object.assign(values, fromFlags.values);
  return values;
}

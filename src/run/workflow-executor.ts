import type { ParsedWorkflow, WorkflowStep } from "../workflow/index.ts";
import type { SessionManager } from "../sandbox/index.ts";
import { createSecretMasker, type SecretMasker } from "./secret-masker.ts";
import type { KillGrace } from "./run-context.ts";
import { tarRepository } from "./workspace-tar.ts";
import { VmCommandExecutor } from "./vm-command-executor.ts";

/** What the seed called the context of a workflow execution. */
export interface WorkflowContext {
  /** Identifies the execution in logs and sandbox names. */
  id: string;
  /** A git repository copied into the workspace first (tracked and unignored files, `.git`). */
  repoDir?: string;
  /** Added to the workflow's `environment` for every command. */
  env?: Record<string, string>;
  /** Values masked in every result. */
  secrets?: string[];
  network?: boolean;
}

/** One executed command. */
export interface CommandResult {
  name: string;
  command: string;
  phase: "setup" | "step" | "cleanup";
  status: "success" | "failure" | "skipped";
  exit_code: number | null;
  timed_out: boolean;
  stdout: string;
  stderr: string;
  duration_ms: number;
}

/** The outcome of {@link WorkflowExecutor.executeWorkflow}. */
export interface WorkflowResult {
  /** False whenever a setup command or a step without continue_on_error failed. */
  success: boolean;
  results: CommandResult[];
  summary: string;
  duration_ms: number;
}

/** Settings of a {@link WorkflowExecutor}. */
export interface WorkflowExecutorConfig {
  sessions: SessionManager;
  /** Cap on captured output per command (the rest is dropped with a marker). */
  maxOutputBytes?: number;
  grace?: KillGrace;
  clock?: () => number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Executes a seed-shaped {@link ParsedWorkflow} in one fresh sandbox: setup commands, then the
 * steps, then the cleanup commands, which run whatever happened before. Unlike the seed, a step
 * that fails without `continue_on_error` makes the result unsuccessful and stops later steps.
 *
 * @example
 * const executor = new WorkflowExecutor({ sessions });
 * const result = await executor.executeWorkflow(parsed, { id: "ci-1", repoDir: "." });
 * if (!result.success) console.error(result.summary);
 */
export class WorkflowExecutor {
  readonly #config: WorkflowExecutorConfig;

  constructor(config: WorkflowExecutorConfig) {
    this.#config = config;
  }

  /** Runs the workflow; rejects only when no sandbox could be had. */
  async executeWorkflow(
    workflow: ParsedWorkflow,
    context: WorkflowContext,
  ): Promise<WorkflowResult> {
    const clock = this.#config.clock ?? Date.now;
    const started = clock();
    const masker = createSecretMasker();
    for (const s of context.secrets ?? []) masker.add(s);
    const results: CommandResult[] = [];
    const session = await this.#config.sessions.createSession(
      {
        label: context.id.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 64),
        network: context.network ?? false,
      },
      undefined,
      { wait: true },
    );
    try {
      const vm = session.vm;
      const agent = vm.agent();
      this.#config.sessions.updateState(session.id, "executing");
      if (context.repoDir) await agent.putTar(vm.paths.workspace, tarRepository(context.repoDir));
      const env = {
        PATH: DEFAULT_PATH,
        HOME: vm.paths.home,
        CI: "true",
        ...workflow.environment,
        ...(context.env ?? {}),
      };
      const executor = new VmCommandExecutor(agent, {
        workspace: vm.paths.workspace,
        env,
        ...(this.#config.maxOutputBytes ? { maxOutputBytes: this.#config.maxOutputBytes } : {}),
        ...(this.#config.grace ? { grace: this.#config.grace } : {}),
      });
      const run = (step: WorkflowStep, phase: CommandResult["phase"]) =>
        this.#runCommand(executor, step, phase, masker);

      let failed = false;
      for (const [i, command] of workflow.setup_commands.entries()) {
        const r = await run(seedStep(`Setup ${i + 1}`, command), "setup");
        results.push(r);
        if (r.status === "failure") {
          failed = true;
          break;
        }
      }
      for (const step of workflow.steps) {
        if (failed) {
          results.push(skipped(step));
          continue;
        }
        const r = await run(step, "step");
        results.push(r);
        if (r.status === "failure" && !step.continue_on_error) failed = true;
      }
      for (const [i, command] of workflow.cleanup_commands.entries()) {
        results.push(await run(seedStep(`Cleanup ${i + 1}`, command), "cleanup"));
      }
      const durationMs = clock() - started;
      this.#config.sessions.updateState(session.id, failed ? "failed" : "completed");
      return {
        success: !failed,
        results,
        summary: summarize(workflow, results, !failed, durationMs),
        duration_ms: durationMs,
      };
    } finally {
      await this.#config.sessions.releaseSession(session.id);
    }
  }

  async #runCommand(
    executor: VmCommandExecutor,
    step: WorkflowStep,
    phase: CommandResult["phase"],
    masker: SecretMasker,
  ): Promise<CommandResult> {
    const r = await executor.execute(step.command, {
      workingDir: step.working_dir || ".",
      timeoutSeconds: step.timeout_seconds,
    });
    const notes = [
      r.timed_out ? `actvm: timed out after ${step.timeout_seconds} s` : "",
      r.error ?? "",
    ].filter(Boolean);
    return {
      name: masker.mask(step.name),
      command: masker.mask(step.command),
      phase,
      status: r.exit_code === 0 && !r.timed_out ? "success" : "failure",
      exit_code: r.exit_code,
      timed_out: r.timed_out,
      stdout: masker.mask(r.stdout),
      stderr: masker.mask([r.stderr, ...notes].filter(Boolean).join("\n")),
      duration_ms: r.duration_ms,
    };
  }
}

function seedStep(name: string, command: string): WorkflowStep {
  return { name, command, working_dir: ".", continue_on_error: false, timeout_seconds: 300 };
}

function skipped(step: WorkflowStep): CommandResult {
  return {
    name: step.name,
    command: step.command,
    phase: "step",
    status: "skipped",
    exit_code: null,
    timed_out: false,
    stdout: "",
    stderr: "",
    duration_ms: 0,
  };
}

function summarize(
  workflow: ParsedWorkflow,
  results: CommandResult[],
  success: boolean,
  ms: number,
): string {
  const steps = results.filter((r) => r.phase === "step");
  const ok = steps.filter((r) => r.status === "success").length;
  const head = success
    ? `✅ Workflow '${workflow.name}' completed successfully in ${ms}ms`
    : `❌ Workflow '${workflow.name}' failed: ${results.find((r) => r.status === "failure")?.name ?? "a command"} failed`;
  return `${head}\nSteps executed: ${ok}/${workflow.steps.length} succeeded`;
}

import path from "node:path";
import type { AgentClient } from "../guest/index.ts";
import { GITHUB_KILL_GRACE, type KillGrace } from "./run-context.ts";

/** What one command produced, in the seed's field names. */
export interface VmCommandResult {
  exit_code: number | null;
  stdout: string;
  stderr: string;
  timed_out: boolean;
  duration_ms: number;
  /** Why the command could not run at all (agent gone, missing directory). */
  error?: string;
}

/** Options of {@link VmCommandExecutor.execute}. */
export interface VmCommandOptions {
  /** Relative to the workspace, or absolute. */
  workingDir?: string;
  timeoutSeconds?: number;
  env?: Record<string, string>;
}

/**
 * Runs shell commands in one sandbox through its guest agent and captures their output, with
 * the seed's result shape. A command that cannot start is a result with `exit_code` null and
 * `error` set, never a success.
 *
 * @example
 * const exec = new VmCommandExecutor(vm.agent(), { workspace: vm.paths.workspace });
 * const r = await exec.execute("cargo build", { timeoutSeconds: 600 });
 */
export class VmCommandExecutor {
  readonly #agent: AgentClient;
  readonly #workspace: string;
  readonly #env: Record<string, string>;
  readonly #maxOutputBytes: number;
  readonly #grace: KillGrace;

  constructor(
    agent: AgentClient,
    opts: {
      workspace: string;
      env?: Record<string, string>;
      maxOutputBytes?: number;
      grace?: KillGrace;
    },
  ) {
    this.#agent = agent;
    this.#workspace = opts.workspace;
    this.#env = opts.env ?? {};
    this.#maxOutputBytes = opts.maxOutputBytes ?? 1024 * 1024;
    this.#grace = opts.grace ?? GITHUB_KILL_GRACE;
  }

  /** Runs `command` with `bash -e -c`. */
  async execute(command: string, opts: VmCommandOptions = {}): Promise<VmCommandResult> {
    const started = Date.now();
    const out = { stdout: capture(this.#maxOutputBytes), stderr: capture(this.#maxOutputBytes) };
    const wd = opts.workingDir ?? ".";
    const cwd = path.posix.isAbsolute(wd) ? wd : path.posix.join(this.#workspace, wd);
    try {
      const result = await this.#agent.exec(
        {
          argv: ["bash", "-e", "-c", command],
          cwd,
          env: { ...this.#env, ...(opts.env ?? {}) },
          ...(opts.timeoutSeconds !== undefined
            ? { timeoutMs: Math.max(1, opts.timeoutSeconds * 1000) }
            : {}),
          graceMs: this.#grace,
        },
        { onStdout: (c) => out.stdout.add(c), onStderr: (c) => out.stderr.add(c) },
      ).result;
      return {
        exit_code: result.exitCode,
        stdout: out.stdout.text(),
        stderr: out.stderr.text(),
        timed_out: result.timedOut,
        duration_ms: Date.now() - started,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return {
        exit_code: null,
        stdout: out.stdout.text(),
        stderr: out.stderr.text(),
        timed_out: false,
        duration_ms: Date.now() - started,
        error: message,
      };
    }
  }
}

function capture(max: number): { add(c: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  return {
    add(c) {
      if (size + c.length <= max) {
        chunks.push(c);
        size += c.length;
      } else dropped += c.length;
    },
    text() {
      const s = Buffer.concat(chunks).toString("utf8");
      return dropped > 0 ? `${s}\n[actvm: ${dropped} more bytes dropped]` : s;
    },
  };
}

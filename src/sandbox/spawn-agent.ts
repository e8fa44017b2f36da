import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { connectAgent, type AgentClient } from "../guest/index.ts";
import { ActvmError } from "../shared/errors.ts";
import { signalGroup, signalProcess } from "./process-control.ts";
import { createTailBuffer, type TailBuffer } from "./tail-buffer.ts";

/** How a spawned agent (or the sandbox wrapping it) ended. */
export interface AgentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A sandbox process running the guest agent on its stdio, with the client connected to it. */
export interface SpawnedAgent {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly client: AgentClient;
  /** The last bytes the process wrote to stderr, for error messages. */
  readonly stderr: TailBuffer;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<AgentExit>;
}

/** What {@link startAgent} runs and how long it waits for the agent's hello. */
export interface StartAgentOptions {
  command: string;
  args: string[];
  /** The complete environment of the process; nothing of actvm's own is inherited. */
  env: Record<string, string>;
  cwd?: string;
  subsystem: string;
  readyTimeoutMs: number;
  signal?: AbortSignal;
  /** Called with the pid as soon as the process exists, before the agent is ready. */
  onSpawn?(pid: number): Promise<void>;
}

/**
 * Spawns the sandbox process in its own process group and connects to the agent on its stdio.
 * Fails with VM_ALLOCATION (naming the exit status and stderr) when the process dies first,
 * or CANCELLED when `signal` aborts; in both cases nothing is left running.
 */
export async function startAgent(opts: StartAgentOptions): Promise<SpawnedAgent> {
  const { subsystem } = opts;
  if (opts.signal?.aborted) throw cancelled(subsystem);
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["pipe", "pipe", "pipe"],
    // Own process group: a terminal's Ctrl-C must reach the runner, which cancels jobs in order.
    detached: true,
  });
  const stderr = createTailBuffer();
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  // A broken pipe to a dead agent is reported through the client and the exit status instead.
  child.stdin?.on("error", () => {});
  const exited = new Promise<AgentExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  const fail = async (err: ActvmError): Promise<never> => {
    if (child.pid !== undefined) {
      signalGroup(child.pid, "SIGKILL");
      signalProcess(child.pid, "SIGKILL");
    }
    await exited;
    throw err;
  };

  let onAbort: (() => void) | undefined;
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    if (child.pid === undefined) {
      const err = await spawnError;
      return await fail(
        new ActvmError("VM_ALLOCATION", `could not start ${opts.command}: ${err.message}`, {
          subsystem,
          cause: err,
        }),
      );
    }
    const pid = child.pid;
    if (opts.onSpawn) await opts.onSpawn(pid);
    if (!child.stdin || !child.stdout) throw new Error("stdio pipes missing");
    const connecting = connectAgent(
      { input: child.stdout, output: child.stdin },
      { subsystem, readyTimeoutMs: opts.readyTimeoutMs },
    );
    // Keep a late rejection (after we already gave up) from becoming an unhandled one.
    connecting.catch(() => {});
    let first = await Promise.race([
      connecting.then(
        (client) => ({ kind: "ready" as const, client }),
        (err: unknown) => ({ kind: "error" as const, err }),
      ),
      exited.then((exit) => ({ kind: "exit" as const, exit })),
      aborted.then(() => ({ kind: "aborted" as const })),
    ]);
    if (first.kind === "error") {
      // A closed channel usually means the process is dying; its exit status says more.
      const exit = await Promise.race([exited, sleep(500).then(() => null)]);
      if (exit) first = { kind: "exit", exit };
    }
    if (first.kind === "ready") {
      return { child, pid, client: first.client, stderr, exited };
    }
    if (first.kind === "aborted") {
      connecting.then((c) => c.close()).catch(() => {});
      return await fail(cancelled(subsystem));
    }
    if (first.kind === "exit") {
      // Give stderr a moment to drain so the message carries the reason.
      await sleep(20);
      return await fail(
        new ActvmError(
          "VM_ALLOCATION",
          `sandbox process exited ${describeExit(first.exit)} before the agent was ready${tail(stderr)}`,
          { subsystem },
        ),
      );
    }
    return await fail(
      new ActvmError("VM_ALLOCATION", `${errorText(first.err)}${tail(stderr)}`, {
        subsystem,
        cause: first.err,
      }),
    );
  } catch (err) {
    // Also reached through `fail`; killing an already-dead process again is harmless.
    return await fail(
      err instanceof ActvmError
        ? err
        : new ActvmError("VM_ALLOCATION", errorText(err), { subsystem, cause: err }),
    );
  } finally {
    if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Closes the agent, gives the process `graceMs` to exit on its own, then SIGKILLs its process
 * group. Never throws; resolves once the process has exited.
 */
export async function stopAgent(agent: SpawnedAgent, graceMs: number): Promise<AgentExit> {
  await Promise.race([agent.client.close().catch(() => {}), sleep(graceMs)]);
  const timer = sleep(graceMs).then(() => "timeout" as const);
  const first = await Promise.race([agent.exited, timer]);
  if (first === "timeout") {
    signalGroup(agent.pid, "SIGKILL");
    signalProcess(agent.pid, "SIGKILL");
  }
  // Kill stragglers of the group even after a clean exit: they must not outlive the VM.
  signalGroup(agent.pid, "SIGKILL");
  return agent.exited;
}

/** Formats an exit status as "with code 1" or "on SIGKILL". */
export function describeExit(exit: AgentExit): string {
  if (exit.signal) return `on ${exit.signal}`;
  if (exit.code === null) return "abnormally";
  return `with code ${exit.code}`;
}

function tail(buf: TailBuffer): string {
  const text = buf.text().trim();
  return text ? `: ${text}` : "";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function cancelled(subsystem: string): ActvmError {
  return new ActvmError("CANCELLED", "sandbox allocation was aborted", { subsystem });
}

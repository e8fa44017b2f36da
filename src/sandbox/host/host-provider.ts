import { userInfo } from "node:os";
import { agentBundlePath, type AgentClient } from "../../guest/index.ts";
import { ActvmError } from "../../shared/errors.ts";
import { descendantsOf, processRef } from "../process-control.ts";
import { killProcessesOf } from "../release-processes.ts";
import { startAgent, stopAgent, type SpawnedAgent } from "../spawn-agent.ts";
import type { GuestPaths, ProbeResult, Vm, VmProvider, VmSpec } from "../types.ts";
import { createVmDir, type VmDir } from "../vm-dir.ts";
import { releaseOnce } from "../release-once.ts";
import { assertVmLabel } from "../vm-label.ts";

const SUBSYSTEM = "sandbox/host";
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Settings of the `host` driver. */
export interface HostProviderOptions {
  /** Directory that holds one throwaway tree per VM. */
  baseDir: string;
  /** How long the agent may take to say hello. Default 15 s. */
  readyTimeoutMs?: number;
  /** How long `release` waits for the agent to exit before killing it. Default 2 s. */
  releaseGraceMs?: number;
  /** Node binary that runs the agent. Default: the one running actvm. */
  nodePath?: string;
  /** PATH given to the agent process. Default: the standard system PATH. */
  path?: string;
}

interface HostVmState {
  dir: VmDir;
  agent: SpawnedAgent;
  releasing?: Promise<void>;
}

/**
 * The `host` driver: the agent runs as a plain child process and jobs run directly on this
 * machine, in a throwaway directory tree. No isolation at all; for trusted workflows only.
 *
 * @example
 * const provider = createHostProvider({ baseDir: "/var/lib/actvm/vms" });
 * const vm = await provider.allocate({ label: "job-1", network: true });
 * try { await vm.agent().ping(); } finally { await provider.release(vm); }
 */
export function createHostProvider(options: HostProviderOptions): VmProvider {
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const graceMs = options.releaseGraceMs ?? 2_000;
  const live = new WeakMap<Vm, HostVmState>();

  const teardown = async (state: HostVmState): Promise<void> => {
    // Collected while the agent is still alive: its children re-parent to init once it dies.
    const family = [state.agent.pid, ...descendantsOf(state.agent.pid)];
    await stopAgent(state.agent, graceMs);
    await killProcessesOf(family, state.dir.dir, graceMs);
    await state.dir.remove();
  };

  return {
    name: "host",

    async probe(): Promise<ProbeResult> {
      let user = "the current user";
      try {
        user = userInfo().username;
      } catch {
        // No passwd entry (e.g. an arbitrary container uid); the generic wording is fine.
      }
      return {
        available: true,
        isolation: "none",
        detail: `jobs run directly on this machine as ${user} and are NOT isolated; use only for trusted workflows`,
      };
    },

    async allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm> {
      const label = assertVmLabel(spec.label, SUBSYSTEM);
      if (signal?.aborted) {
        throw new ActvmError("CANCELLED", "sandbox allocation was aborted", {
          subsystem: SUBSYSTEM,
        });
      }
      const dir = await createVmDir(options.baseDir, "host", label);
      let agent: SpawnedAgent;
      try {
        agent = await startAgent({
          command: options.nodePath ?? process.execPath,
          args: [agentBundlePath()],
          cwd: dir.hostPaths.workspace,
          env: {
            PATH: options.path ?? DEFAULT_PATH,
            HOME: dir.hostPaths.home,
            TMPDIR: dir.hostPaths.temp,
            LANG: "C.UTF-8",
          },
          subsystem: SUBSYSTEM,
          readyTimeoutMs,
          signal,
          onSpawn: (pid) => dir.recordProcess(processRef(pid)),
        });
      } catch (err) {
        await killProcessesOf([], dir.dir, graceMs);
        await dir.remove();
        throw err;
      }
      const paths: GuestPaths = { ...dir.hostPaths };
      const client: AgentClient = agent.client;
      const vm: Vm = {
        id: dir.id,
        backend: "host",
        paths,
        agent: () => client,
      };
      live.set(vm, { dir, agent });
      return vm;
    },

    release(vm: Vm): Promise<void> {
      return releaseOnce(live, vm, teardown);
    },
  };
}

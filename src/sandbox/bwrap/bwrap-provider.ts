import { execFile } from "node:child_process";
import { chown, mkdir, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { agentBundlePath } from "../../guest/index.ts";
import { ActvmError } from "../../shared/errors.ts";
import { descendantsOf, processRef } from "../process-control.ts";
import { killProcessesOf } from "../release-processes.ts";
import { startAgent, stopAgent, type SpawnedAgent } from "../spawn-agent.ts";
import type { ProbeResult, Vm, VmProvider, VmSpec } from "../types.ts";
import { createVmDir, type VmDir } from "../vm-dir.ts";
import { releaseOnce } from "../release-once.ts";
import { assertVmLabel } from "../vm-label.ts";
import { findExecutable, SYSTEM_PATH } from "../find-executable.ts";
import {
  BWRAP_GUEST_PATHS,
  HIDDEN_HOST_DIRS,
  buildBwrapArgs,
  stateDirToHide,
} from "./bwrap-args.ts";

const SUBSYSTEM = "sandbox/bwrap";
const INSTALL_FIX = "apt-get install bubblewrap";

/** Settings of the `bwrap` driver. */
export interface BwrapProviderOptions {
  /** Directory that holds one throwaway tree per VM; its parent is hidden from guests. */
  baseDir: string;
  /** bwrap binary: a path, or a name looked up in the standard system PATH. Default "bwrap". */
  bwrapPath?: string;
  /** Node binary that runs the agent inside the sandbox. Default: the one running actvm. */
  nodePath?: string;
  /** How long the agent may take to say hello. Default 15 s. */
  readyTimeoutMs?: number;
  /** How long `release` waits for the sandbox to exit before killing it. Default 2 s. */
  releaseGraceMs?: number;
  /**
   * Host user the job runs as when actvm runs as root. Default uid/gid 65534 (nobody), so a job
   * cannot read root-only host files such as /etc/shadow or SSH host keys; "self" keeps root
   * (confined to a user namespace). Ignored for a non-root actvm, whose jobs run as itself.
   */
  sandboxUser?: { uid: number; gid: number } | "self";
}

interface RunAs {
  uid: number;
  gid: number;
  setpriv: string;
}

interface BwrapVmState {
  dir: VmDir;
  agent: SpawnedAgent;
  releasing?: Promise<void>;
}

function run(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ ok: boolean; out: string }> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, env: { PATH: SYSTEM_PATH }, cwd: "/" },
      (err, stdout, stderr) => {
        done({ ok: !err, out: `${stdout}${stderr}`.trim() || (err?.message ?? "") });
      },
    );
  });
}

function userNamespaceFix(message: string): string {
  if (/apparmor/i.test(message)) return "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
  return "sysctl -w kernel.unprivileged_userns_clone=1 (or raise user.max_user_namespaces)";
}

/** Finds the real file behind /etc/resolv.conf when its link points into a hidden directory. */
async function resolvConfBinding(): Promise<{ target: string; source: string } | undefined> {
  try {
    const link = await readlink("/etc/resolv.conf");
    const target = isAbsolute(link) ? link : resolve("/etc", link);
    if (!HIDDEN_HOST_DIRS.some((h) => target === h || target.startsWith(`${h}/`))) return;
    return { target, source: await realpath("/etc/resolv.conf") };
  } catch {
    // Not a symlink, or a dangling one: nothing to bind.
    return undefined;
  }
}

/**
 * The `bwrap` driver: each job runs under bubblewrap in fresh user, pid, mount, ipc, uts, cgroup
 * and (unless `spec.network`) network namespaces, with the host's root read-only and home,
 * temp and runtime directories hidden. When the sandbox's first process ends, the kernel kills
 * everything the job started, including daemons that called `setsid`.
 *
 * @example
 * const provider = createBwrapProvider({ baseDir: "/var/lib/actvm/vms" });
 * if ((await provider.probe()).available) {
 *   const vm = await provider.allocate({ label: "job-1", network: false });
 *   try { await vm.agent().ping(); } finally { await provider.release(vm); }
 * }
 */
export function createBwrapProvider(options: BwrapProviderOptions): VmProvider {
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const graceMs = options.releaseGraceMs ?? 2_000;
  const bwrapName = options.bwrapPath ?? "bwrap";
  const live = new WeakMap<Vm, BwrapVmState>();
  let probed: Promise<ProbeResult> | undefined;
  let runAsChoice: Promise<RunAs | null> | undefined;

  // null: the job runs as actvm's own user (inside a user namespace).
  const chooseRunAs = async (): Promise<RunAs | null> => {
    if (process.getuid?.() !== 0 || options.sandboxUser === "self") return null;
    const setpriv = await findExecutable("setpriv");
    if (!setpriv) return null;
    const user = options.sandboxUser ?? { uid: 65534, gid: 65534 };
    return { ...user, setpriv };
  };
  const runAs = (): Promise<RunAs | null> => (runAsChoice ??= chooseRunAs());

  const probe = async (): Promise<ProbeResult> => {
    const bin = await findExecutable(bwrapName);
    if (!bin) {
      return {
        available: false,
        isolation: "namespaces",
        detail: `bubblewrap is not installed (no executable ${JSON.stringify(bwrapName)})`,
        fix: INSTALL_FIX,
      };
    }
    const version = await run(bin, ["--version"], 5_000);
    const trial = await run(bin, ["--ro-bind", "/", "/", "--unshare-all", "true"], 10_000);
    if (!trial.ok) {
      return {
        available: false,
        isolation: "namespaces",
        detail: `bwrap cannot create namespaces here: ${trial.out}`,
        fix: userNamespaceFix(trial.out),
      };
    }
    const user = await runAs();
    let who = "";
    if (user) who = `; jobs run as uid ${user.uid}`;
    else if (process.getuid?.() === 0 && options.sandboxUser !== "self") {
      who = "; jobs keep root in a user namespace (setpriv from util-linux is missing)";
    }
    return {
      available: true,
      isolation: "namespaces",
      detail: `${version.ok ? version.out : "bubblewrap"}, user namespaces work${who}`,
    };
  };

  const teardown = async (state: BwrapVmState): Promise<void> => {
    // Everything in the sandbox descends from bwrap on the host; collect it while it is alive.
    const family = [state.agent.pid, ...descendantsOf(state.agent.pid)];
    await stopAgent(state.agent, graceMs);
    await killProcessesOf(family, state.dir.dir, graceMs);
    await state.dir.remove();
  };

  return {
    name: "bwrap",

    probe() {
      probed ??= probe();
      return probed;
    },

    async allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm> {
      const label = assertVmLabel(spec.label, SUBSYSTEM);
      if (signal?.aborted) {
        throw new ActvmError("CANCELLED", "sandbox allocation was aborted", {
          subsystem: SUBSYSTEM,
        });
      }
      const bin = await findExecutable(bwrapName);
      if (!bin) {
        throw new ActvmError("SANDBOX_UNAVAILABLE", "bubblewrap is not installed", {
          subsystem: SUBSYSTEM,
          hint: INSTALL_FIX,
        });
      }
      const baseDir = resolve(options.baseDir);
      const dir = await createVmDir(baseDir, "bwrap", label);
      let agent: SpawnedAgent;
      try {
        // Made here rather than by bwrap, which would create them as 0700 mount points.
        const owned: string[] = [...Object.values(dir.hostPaths)];
        for (const guestPath of Object.values(BWRAP_GUEST_PATHS)) {
          if (guestPath === BWRAP_GUEST_PATHS.home) continue;
          const inHome = guestPath.slice(BWRAP_GUEST_PATHS.home.length + 1);
          await mkdir(join(dir.hostPaths.home, inHome), { recursive: true, mode: 0o755 });
          owned.push(join(dir.hostPaths.home, inHome));
        }
        const user = await runAs();
        if (user) {
          owned.push(join(dir.hostPaths.home, "work"));
          for (const p of owned) await chown(p, user.uid, user.gid);
        }
        const args = buildBwrapArgs({
          hostPaths: dir.hostPaths,
          network: spec.network,
          stateDir: stateDirToHide(baseDir),
          agentBundle: await realpath(agentBundlePath()),
          nodePath: await realpath(options.nodePath ?? process.execPath),
          dropCapabilities: process.getuid?.() === 0,
          runAs: user ?? undefined,
          env: {
            PATH: SYSTEM_PATH,
            HOME: BWRAP_GUEST_PATHS.home,
            TMPDIR: BWRAP_GUEST_PATHS.temp,
            LANG: "C.UTF-8",
          },
          resolvConf: spec.network ? await resolvConfBinding() : undefined,
        });
        agent = await startAgent({
          command: bin,
          args,
          cwd: dirname(dir.dir),
          env: { PATH: SYSTEM_PATH },
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
      const client = agent.client;
      const vm: Vm = {
        id: dir.id,
        backend: "bwrap",
        paths: { ...BWRAP_GUEST_PATHS },
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

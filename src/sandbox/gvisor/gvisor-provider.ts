import { mkdtemp, chown, mkdir, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findImage } from "../../image/index.ts";
import { ActvmError } from "../../shared/errors.ts";
import { BWRAP_GUEST_PATHS } from "../bwrap/bwrap-args.ts";
import { descendantsOf, processRef } from "../process-control.ts";
import { killProcessesOf } from "../release-processes.ts";
import { startAgent, stopAgent, type SpawnedAgent } from "../spawn-agent.ts";
import type { ProbeResult, Vm, VmProvider, VmSpec } from "../types.ts";
import { createVmDir, removeTree, type VmDir } from "../vm-dir.ts";
import { releaseOnce } from "../release-once.ts";
import { assertVmLabel } from "../vm-label.ts";
import { buildOciConfig, RUNNER_USER, type GuestUser } from "./oci-config.ts";
import { runRunsc } from "./runsc-command.ts";
import { findExecutable, SYSTEM_PATH } from "../find-executable.ts";

const SUBSYSTEM = "sandbox/gvisor";
const INSTALL_FIX = "apt-get install runsc";
const IMAGE_FIX = "actvm image build";

/** Sub-directories of a gVisor VM directory, beside the ones every driver has. */
export const GVISOR_VM_LAYOUT = Object.freeze({
  /** The OCI bundle: `config.json` only; its root is the image tree. */
  bundle: "bundle",
  /** runsc's `--root`: container state, so a later actvm can find and delete the container. */
  state: "runsc-state",
  /** Backing store of the root overlay, so `/` writes use disk, not RAM, and die with the VM. */
  overlay: "overlay",
});

/** Settings of the `gvisor` driver. */
export interface GvisorProviderOptions {
  /** Directory that holds one throwaway tree per VM. */
  baseDir: string;
  /** Where `actvm image build` keeps images. */
  imagesDir: string;
  /** Image whose root tree the sandboxes run in. Default "default"; `spec.image` overrides. */
  imageName?: string;
  /** runsc binary: a path, or a name looked up in the standard system PATH. Default "runsc". */
  runscPath?: string;
  /** gVisor platform. Default "ptrace", which needs no hardware virtualisation. */
  platform?: "ptrace" | "kvm";
  /** Job user inside the sandbox. Default the image's `runner` (uid/gid 1001). */
  user?: GuestUser;
  /** How long the agent may take to say hello. Default 30 s. */
  readyTimeoutMs?: number;
  /** How long `release` waits for the sandbox to exit before killing it. Default 2 s. */
  releaseGraceMs?: number;
}

interface GvisorVmState {
  dir: VmDir;
  agent: SpawnedAgent;
  containerId: string;
  stateDir: string;
  releasing?: Promise<void>;
}

async function hostResolvConf(): Promise<string | undefined> {
  try {
    return await realpath("/etc/resolv.conf");
  } catch {
    // No resolver configuration on the host: the image's own (if any) stays.
    return undefined;
  }
}

/**
 * The `gvisor` driver: each job runs under gVisor's `runsc` (its own user-space kernel, so the
 * job's system calls never reach the host kernel directly) in the image's root tree, with a
 * per-sandbox overlay that makes `/` writable while the image stays untouched, and the VM's
 * work directories bound in. Without `spec.network` the sandbox has only loopback; with it,
 * sockets go through the host's network stack.
 *
 * @example
 * const provider = createGvisorProvider({ baseDir: "/var/lib/actvm/vms", imagesDir });
 * if ((await provider.probe()).available) {
 *   const vm = await provider.allocate({ label: "job-1", network: false });
 *   try { await vm.agent().ping(); } finally { await provider.release(vm); }
 * }
 */
export function createGvisorProvider(options: GvisorProviderOptions): VmProvider {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const graceMs = options.releaseGraceMs ?? 2_000;
  const runscName = options.runscPath ?? "runsc";
  const platform = options.platform ?? "ptrace";
  const user = options.user ?? RUNNER_USER;
  const live = new WeakMap<Vm, GvisorVmState>();
  let probed: Promise<ProbeResult> | undefined;

  const unavailable = (detail: string, fix?: string): ProbeResult => ({
    available: false,
    isolation: "syscall-filter",
    detail,
    ...(fix ? { fix } : {}),
  });

  const probe = async (): Promise<ProbeResult> => {
    const bin = await findExecutable(runscName);
    if (!bin) {
      return unavailable(
        `gVisor is not installed (no executable ${JSON.stringify(runscName)})`,
        INSTALL_FIX,
      );
    }
    if (process.getuid?.() !== 0) {
      return unavailable(
        "runsc needs root to create its sandboxes",
        "run actvm as root, or use --backend bwrap",
      );
    }
    const version = await runRunsc(bin, ["--version"], 5_000);
    const versionText = version.ok ? (version.out.split("\n")[0] ?? "runsc") : "runsc";
    const scratch = await mkdtemp(join(tmpdir(), "actvm-runsc-probe-"));
    try {
      const smoke = await runRunsc(
        bin,
        ["--root", scratch, "--platform", platform, "--network=none", "do", "true"],
        30_000,
      );
      if (!smoke.ok) {
        return unavailable(`runsc cannot start a sandbox here: ${smoke.out}`, smokeFix(smoke.out));
      }
    } finally {
      await removeTree(scratch);
    }
    const name = options.imageName ?? "default";
    const image = await findImage(options.imagesDir, name);
    if (!image) {
      return unavailable(
        `${versionText} works, but image ${JSON.stringify(name)} is not built`,
        IMAGE_FIX,
      );
    }
    return {
      available: true,
      isolation: "syscall-filter",
      detail: `${versionText}, platform ${platform}, image ${image.id}`,
    };
  };

  const teardown = async (state: GvisorVmState): Promise<void> => {
    const bin = (await findExecutable(runscName)) ?? runscName;
    // The sandbox and gofer descend from `runsc run`; collect them while the tree is intact.
    const family = [state.agent.pid, ...descendantsOf(state.agent.pid)];
    await stopAgent(state.agent, graceMs);
    // A clean agent exit lets `runsc run` delete the container itself; these then find nothing.
    const root = ["--root", state.stateDir];
    await runRunsc(bin, [...root, "kill", state.containerId, "KILL"], 10_000);
    await runRunsc(bin, [...root, "delete", "--force", state.containerId], 10_000);
    await killProcessesOf(family, state.dir.dir, graceMs);
    await state.dir.remove();
  };

  return {
    name: "gvisor",

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
      const bin = await findExecutable(runscName);
      if (!bin) {
        throw new ActvmError("SANDBOX_UNAVAILABLE", "gVisor (runsc) is not installed", {
          subsystem: SUBSYSTEM,
          hint: INSTALL_FIX,
        });
      }
      const imageName = spec.image ?? options.imageName ?? "default";
      const image = await findImage(options.imagesDir, imageName);
      if (!image) {
        throw new ActvmError(
          "SANDBOX_UNAVAILABLE",
          `image ${JSON.stringify(imageName)} is not built in ${options.imagesDir}`,
          { subsystem: SUBSYSTEM, hint: IMAGE_FIX },
        );
      }
      const dir = await createVmDir(resolve(options.baseDir), "gvisor", label);
      const bundleDir = join(dir.dir, GVISOR_VM_LAYOUT.bundle);
      const stateDir = join(dir.dir, GVISOR_VM_LAYOUT.state);
      const overlayDir = join(dir.dir, GVISOR_VM_LAYOUT.overlay);
      const containerId = dir.id;
      let agent: SpawnedAgent;
      try {
        for (const d of [bundleDir, stateDir, overlayDir]) await mkdir(d, { mode: 0o700 });
        // The work directories are mount points inside the home bind: they must exist in it.
        const owned: string[] = [...Object.values(dir.hostPaths)];
        const home = BWRAP_GUEST_PATHS.home;
        for (const guestPath of Object.values(BWRAP_GUEST_PATHS)) {
          if (guestPath === home) continue;
          const inHome = join(dir.hostPaths.home, guestPath.slice(home.length + 1));
          await mkdir(inHome, { recursive: true, mode: 0o755 });
          owned.push(inHome);
        }
        owned.push(join(dir.hostPaths.home, "work"));
        // The gofer creates files with the guest user's ids, so the host tree must be theirs.
        for (const p of owned) await chown(p, user.uid, user.gid);
        const config = buildOciConfig({
          rootfsDir: image.rootfsDir,
          hostPaths: dir.hostPaths,
          network: spec.network,
          user,
          env: {
            PATH: SYSTEM_PATH,
            HOME: BWRAP_GUEST_PATHS.home,
            TMPDIR: BWRAP_GUEST_PATHS.temp,
            LANG: "C.UTF-8",
          },
          resolvConf: spec.network ? await hostResolvConf() : undefined,
        });
        await writeFile(join(bundleDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`, {
          mode: 0o600,
        });
        agent = await startAgent({
          command: bin,
          args: [
            "--root",
            stateDir,
            "--platform",
            platform,
            // `host`: runsc's own `sandbox` network would take over the interfaces of the
            // namespace it runs in, which without a prepared one are the host's.
            `--network=${spec.network ? "host" : "none"}`,
            `--overlay2=root:${overlayDir}`,
            "run",
            "--bundle",
            bundleDir,
            containerId,
          ],
          cwd: bundleDir,
          env: { PATH: SYSTEM_PATH },
          subsystem: SUBSYSTEM,
          readyTimeoutMs,
          signal,
          onSpawn: (pid) => dir.recordProcess(processRef(pid)),
        });
        // Sandbox and gofer outlive `runsc run` if it is killed alone; record them for sweeps.
        for (const pid of descendantsOf(agent.pid)) await dir.recordProcess(processRef(pid));
      } catch (err) {
        await runRunsc(bin, ["--root", stateDir, "delete", "--force", containerId], 10_000);
        await killProcessesOf([], dir.dir, graceMs);
        await dir.remove();
        throw err;
      }
      const client = agent.client;
      const vm: Vm = {
        id: dir.id,
        backend: "gvisor",
        paths: { ...BWRAP_GUEST_PATHS },
        agent: () => client,
      };
      live.set(vm, { dir, agent, containerId, stateDir });
      return vm;
    },

    release(vm: Vm): Promise<void> {
      return releaseOnce(live, vm, teardown);
    },
  };
}

function smokeFix(out: string): string | undefined {
  if (/ptrace|PTRACE/.test(out)) return "allow ptrace (kernel.yama.ptrace_scope <= 1)";
  if (/kvm/i.test(out)) return "use platform ptrace, or give actvm access to /dev/kvm";
  return undefined;
}

import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { availableParallelism, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connectAgent, type AgentClient } from "../../guest/index.ts";
import { buildInitramfs, fetchKernel, findImage, runTool } from "../../image/index.ts";
import { ActvmError } from "../../shared/errors.ts";
import { processRef, signalGroup, signalProcess } from "../process-control.ts";
import { killProcessesOf } from "../release-processes.ts";
import { describeExit, type AgentExit } from "../spawn-agent.ts";
import { createTailBuffer, type TailBuffer } from "../tail-buffer.ts";
import type { GuestPaths, ProbeResult, Vm, VmProvider, VmSpec } from "../types.ts";
import { createVmDir, type VmDir } from "../vm-dir.ts";
import { releaseOnce } from "../release-once.ts";
import { assertVmLabel } from "../vm-label.ts";
import { findExecutable, SYSTEM_PATH } from "../find-executable.ts";
import { connectUnixSocket } from "./connect-unix-socket.ts";
import { createConsoleLog, type ConsoleLog } from "./console-log.ts";
import { guardAgent } from "./guard-agent.ts";
import { hostTscKhz } from "./host-tsc-khz.ts";
import { buildQemuArgs } from "./qemu-args.ts";
import { detectAccel, type AccelDecision } from "./qemu-accel.ts";
import { qmpQuit } from "./qmp-quit.ts";
import { vmSize } from "./vm-size.ts";
import { startVmmWatchdog, type VmmWatchdog } from "./vmm-watchdog.ts";

const SUBSYSTEM = "sandbox/qemu";

/** Where things live inside a QEMU guest; the image's `runner` home holds the work tree. */
export const QEMU_GUEST_PATHS: Readonly<GuestPaths> = Object.freeze({
  workspace: "/home/runner/work/workspace",
  temp: "/home/runner/work/_temp",
  actions: "/home/runner/work/_actions",
  toolCache: "/home/runner/work/_tool",
  home: "/home/runner",
});

/** Settings of the `qemu` driver. */
export interface QemuProviderOptions {
  /** Directory that holds one throwaway directory per VM (overlay, sockets, console log). */
  baseDir: string;
  /** Where `actvm image build` keeps images. */
  imagesDir: string;
  /** Image booted when the spec names none. Default "default". */
  imageName?: string;
  /** Where the guest kernel and initramfs are cached. */
  kernelCacheDir: string;
  /** Default 1024; a job's `spec.memoryMb` or `runs-on` label wins. */
  memoryMb?: number;
  /** Default 1; a job's `spec.cpus` or `runs-on` label wins. */
  cpus?: number;
  /** Default "auto": KVM when the host's KVM can run a stock guest, TCG otherwise. */
  accel?: "auto" | "kvm" | "tcg";
  /** How long the guest may take to boot to the agent's hello. Default 120 s. */
  readyTimeoutMs?: number;
  /**
   * How long one boot may take before it is abandoned and the VM booted afresh (up to 3
   * attempts within `readyTimeoutMs`). Default 40 s; a TCG boot normally takes 5–10 s.
   */
  bootAttemptMs?: number;
  /** How often the watchdog looks at a VM. Default 5 s. */
  watchdogIntervalMs?: number;
  /** How long a VM may be stopped or unresponsive before it is killed. Default 60 s. */
  watchdogTimeoutMs?: number;
  /** How long `release` waits for QEMU to quit before killing it. Default 3 s. */
  releaseGraceMs?: number;
  /** Disk cap of each VM's console log. Default 4 MiB. */
  consoleMaxBytes?: number;
  /** QEMU binary: a path, or a name looked up in the standard system PATH. */
  qemuPath?: string;
  /** qemu-img binary, which creates the overlays. */
  qemuImgPath?: string;
  /** Progress of one-time work (kernel download, initramfs build). */
  onProgress?(message: string): void;
}

interface QemuVmState {
  dir: VmDir;
  child: ChildProcess;
  pid: number;
  socket: Socket;
  exited: Promise<AgentExit>;
  watchdog: VmmWatchdog;
  console: ConsoleLog;
  failure?: ActvmError;
  released: boolean;
  releasing?: Promise<void>;
}

interface BootFiles {
  kernel: string;
  initrd: string;
  version: string;
}

/** One boot attempt ran out of time; the caller decides whether to try again. */
class BootTimeout extends Error {}

function unavailable(detail: string, hint?: string): ActvmError {
  return new ActvmError("SANDBOX_UNAVAILABLE", detail, { subsystem: SUBSYSTEM, hint });
}

/**
 * The `qemu` driver: each job runs in a QEMU `microvm` booted from the image's raw ext4
 * behind a per-VM qcow2 overlay (the base image is never written), with the agent on a
 * virtio-serial port, no NIC unless the job asks for network (then user-mode NAT), QEMU's
 * seccomp sandbox on, and a watchdog that kills a hung or stopped VMM and fails the job's
 * pending agent calls as an infrastructure failure.
 *
 * @example
 * const provider = createQemuProvider({ baseDir, imagesDir, kernelCacheDir });
 * const vm = await provider.allocate({ label: "job-1", network: false });
 * try { await vm.agent().ping(); } finally { await provider.release(vm); }
 */
export function createQemuProvider(options: QemuProviderOptions): VmProvider {
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const watchdogIntervalMs = options.watchdogIntervalMs ?? 5_000;
  const watchdogTimeoutMs = options.watchdogTimeoutMs ?? 60_000;
  const graceMs = options.releaseGraceMs ?? 3_000;
  const bootAttemptMs = options.bootAttemptMs ?? 40_000;
  const bootAttempts = 3;
  const defaultImage = options.imageName ?? "default";
  const live = new WeakMap<Vm, QemuVmState>();
  let accelChoice: Promise<AccelDecision> | undefined;
  let bootFiles: Promise<BootFiles> | undefined;
  let probed: Promise<ProbeResult> | undefined;
  let hostTsc: Promise<number | undefined> | undefined;

  const decideAccel = (): Promise<AccelDecision> =>
    (accelChoice ??= (async () => {
      const detected = await detectAccel();
      const forced = options.accel ?? "auto";
      if (forced === "auto" || forced === detected.accel) return detected;
      const name = forced.toUpperCase();
      return {
        accel: forced,
        reason: `${name}: set in configuration (detection: ${detected.reason})`,
      };
    })());

  const prepareBootFiles = (): Promise<BootFiles> => {
    bootFiles ??= (async () => {
      const kernel = await fetchKernel({
        cacheDir: options.kernelCacheDir,
        onProgress: options.onProgress,
      });
      const initrd = await buildInitramfs({
        kernel,
        cacheDir: options.kernelCacheDir,
        onProgress: options.onProgress,
      });
      return { kernel: kernel.kernel, initrd, version: kernel.version };
    })();
    // A failed download may work next time (network back): do not cache the failure.
    bootFiles.catch(() => {
      bootFiles = undefined;
    });
    return bootFiles;
  };

  const imageFile = async (name: string): Promise<string> => {
    const image = await findImage(options.imagesDir, name);
    if (!image) {
      throw unavailable(
        `no image ${JSON.stringify(name)} in ${options.imagesDir}`,
        name === "default" ? "actvm image build" : `actvm image build --name ${name}`,
      );
    }
    return image.rootfsImage;
  };

  const probe = async (): Promise<ProbeResult> => {
    const qemu = await findExecutable(options.qemuPath ?? "qemu-system-x86_64");
    if (!qemu) {
      return {
        available: false,
        isolation: "vm",
        detail: "QEMU is not installed (no qemu-system-x86_64)",
        fix: "apt-get install qemu-system-x86",
      };
    }
    if (!(await findExecutable(options.qemuImgPath ?? "qemu-img"))) {
      return {
        available: false,
        isolation: "vm",
        detail: "qemu-img is not installed; it creates each VM's copy-on-write overlay",
        fix: "apt-get install qemu-utils",
      };
    }
    const { reason } = await decideAccel();
    try {
      await imageFile(defaultImage);
    } catch (err) {
      return {
        available: false,
        isolation: "vm",
        detail: `${(err as Error).message.replace(/^\[[^\]]*\] [^:]*: /, "")}; ${reason}`,
        fix: (err as ActvmError).hint,
      };
    }
    let version = "QEMU";
    try {
      const out = await runTool(qemu, ["--version"], { subsystem: SUBSYSTEM, timeoutMs: 10_000 });
      version = /QEMU emulator version (\S+)/.exec(out)?.[1] ?? version;
      version = `QEMU ${version}`;
    } catch {
      // The version is decoration; the binary's presence was checked above.
    }
    return { available: true, isolation: "vm", detail: `${version} microvm, ${reason}` };
  };

  const hostLimits = {
    hostCpus: availableParallelism(),
    maxMemoryMb: Math.floor((totalmem() / 1024 / 1024) * 0.75),
  };

  const teardown = async (state: QemuVmState): Promise<void> => {
    state.released = true;
    state.watchdog.stop();
    state.socket.destroy();
    const first = await Promise.race([state.exited, sleep(0).then(() => "running" as const)]);
    if (first === "running") {
      const quit = await qmpQuit(join(state.dir.dir, "qmp.sock"), graceMs);
      if (quit) await Promise.race([state.exited, sleep(graceMs)]);
    }
    signalGroup(state.pid, "SIGKILL");
    signalProcess(state.pid, "SIGKILL");
    await state.exited;
    await killProcessesOf([], state.dir.dir, graceMs);
    state.console.close();
    await state.dir.remove();
  };

  return {
    name: "qemu",

    probe() {
      probed ??= probe();
      return probed;
    },

    async allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm> {
      const label = assertVmLabel(spec.label, SUBSYSTEM);
      const cancelled = (): ActvmError =>
        new ActvmError("CANCELLED", "sandbox allocation was aborted", { subsystem: SUBSYSTEM });
      if (signal?.aborted) throw cancelled();
      const qemu = await findExecutable(options.qemuPath ?? "qemu-system-x86_64");
      if (!qemu) throw unavailable("QEMU is not installed", "apt-get install qemu-system-x86");
      const qemuImg = await findExecutable(options.qemuImgPath ?? "qemu-img");
      if (!qemuImg) throw unavailable("qemu-img is not installed", "apt-get install qemu-utils");
      const baseImage = await imageFile(spec.image ?? defaultImage);
      const { accel, reason } = await decideAccel();
      // KVM guests have kvmclock; only emulated ones need the TSC rate handed to them.
      const tscKhz = accel === "tcg" ? await (hostTsc ??= hostTscKhz()) : undefined;
      const boot = await prepareBootFiles();
      if (signal?.aborted) throw cancelled();
      const size = vmSize(
        spec,
        { cpus: options.cpus ?? 1, memoryMb: options.memoryMb ?? 1024 },
        hostLimits,
      );

      const dir = await createVmDir(resolve(options.baseDir), "qemu", label);
      const overlay = join(dir.dir, "overlay.qcow2");
      const agentSocket = join(dir.dir, "agent.sock");
      let child: ChildProcess | undefined;
      let exited: Promise<AgentExit> = Promise.resolve({ code: null, signal: null });
      let socket: Socket | undefined;
      const consoleLog = createConsoleLog(join(dir.dir, "console.log"), options.consoleMaxBytes);
      const stderr: TailBuffer = createTailBuffer(8 * 1024);
      const details = (): string => {
        const parts: string[] = [];
        const err = stderr.text().trim();
        if (err) parts.push(`qemu: ${err}`);
        const con = consoleLog.tail(1500).trim();
        if (con) parts.push(`console:\n${con}`);
        return parts.length > 0 ? `\n${parts.join("\n")}` : "";
      };
      // One attempt: a fresh overlay and QEMU, connected to the agent by `until` (epoch ms).
      const bootOnce = async (
        until: number,
      ): Promise<{ proc: ChildProcess; conn: Socket; client: AgentClient }> => {
        for (const f of [overlay, agentSocket, join(dir.dir, "qmp.sock")])
          await rm(f, { force: true });
        await runTool(
          qemuImg,
          ["create", "-q", "-f", "qcow2", "-b", resolve(baseImage), "-F", "raw", overlay],
          { subsystem: SUBSYSTEM, timeoutMs: 30_000 },
        );
        const args = buildQemuArgs({
          accel,
          cpus: size.cpus,
          memoryMb: size.memoryMb,
          kernel: boot.kernel,
          initrd: boot.initrd,
          rootDisk: overlay,
          agentSocket,
          qmpSocket: join(dir.dir, "qmp.sock"),
          network: spec.network,
          hostname: "actvm",
          tscKhz,
        });
        const proc = spawn(qemu, args, {
          cwd: dir.dir,
          env: { PATH: SYSTEM_PATH },
          stdio: ["ignore", "pipe", "pipe"],
          // Own process group: a terminal's Ctrl-C goes to actvm, which releases VMs in order.
          detached: true,
        });
        child = proc;
        exited = new Promise<AgentExit>((done) => {
          // "close" rather than "exit": the console's last words are read by then.
          proc.once("close", (code, sig) => done({ code, signal: sig }));
          proc.once("error", () => done({ code: null, signal: null }));
        });
        const thisExit = exited;
        proc.stdout?.on("data", (chunk: Buffer) => consoleLog.write(chunk));
        proc.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
        const spawnError = new Promise<Error>((done) => proc.once("error", done));
        if (proc.pid === undefined) {
          const err = await spawnError;
          throw new ActvmError("VM_ALLOCATION", `could not start ${qemu}: ${err.message}`, {
            subsystem: SUBSYSTEM,
            cause: err,
          });
        }
        await dir.recordProcess(processRef(proc.pid));

        let qemuDone: AgentExit | undefined;
        void thisExit.then((e) => {
          qemuDone = e;
        });
        const conn = await connectUnixSocket(agentSocket, until, () => !qemuDone);
        socket = conn;
        // The client detaches its listeners when it ends; a late error (e.g. the watchdog's
        // destroy) must not become an uncaught exception.
        conn.on("error", () => undefined);
        let onAbort: (() => void) | undefined;
        const aborted = new Promise<"aborted">((done) => {
          onAbort = () => done("aborted");
          signal?.addEventListener("abort", onAbort, { once: true });
        });
        const connecting = connectAgent(
          { input: conn, output: conn },
          {
            subsystem: SUBSYSTEM,
            readyTimeoutMs: Math.max(1, until - Date.now()),
            pingTimeoutMs: watchdogTimeoutMs + 5_000,
          },
        );
        connecting.catch(() => undefined);
        let first = await Promise.race([
          connecting.then(
            (client) => ({ kind: "ready" as const, client }),
            (err: unknown) => ({ kind: "error" as const, err }),
          ),
          thisExit.then((exit) => ({ kind: "exit" as const, exit })),
          aborted.then(() => ({ kind: "aborted" as const })),
        ]).finally(() => {
          if (onAbort) signal?.removeEventListener("abort", onAbort);
        });
        if (first.kind === "aborted") throw cancelled();
        if (first.kind === "error") {
          // A closed channel usually means QEMU is ending; its exit status says more.
          const exit = await Promise.race([thisExit, sleep(1000).then(() => undefined)]);
          if (exit) first = { kind: "exit", exit };
        }
        if (first.kind === "exit") {
          throw new ActvmError(
            "VM_ALLOCATION",
            `QEMU exited ${describeExit(first.exit)} before the guest agent was ready${details()}`,
            { subsystem: SUBSYSTEM },
          );
        }
        if (first.kind === "error") {
          const err = first.err as Error;
          const timedOut = err instanceof ActvmError && err.code === "AGENT_TIMEOUT";
          if (timedOut) throw new BootTimeout();
          throw new ActvmError(
            "VM_ALLOCATION",
            `the agent channel failed: ${err.message.replace(/^\[[^\]]*\] /, "")}${details()}`,
            { subsystem: SUBSYSTEM, cause: err },
          );
        }
        return { proc, conn, client: first.client };
      };

      try {
        const deadline = Date.now() + readyTimeoutMs;
        let booted: { proc: ChildProcess; conn: Socket; client: AgentClient } | undefined;
        for (let attempt = 1; !booted; attempt++) {
          const last = attempt >= bootAttempts || deadline - Date.now() <= bootAttemptMs;
          try {
            booted = await bootOnce(last ? deadline : Date.now() + bootAttemptMs);
          } catch (err) {
            if (!(err instanceof BootTimeout)) throw err;
            if (last) {
              throw new ActvmError(
                "VM_ALLOCATION",
                `the guest agent did not answer within ${Math.round(readyTimeoutMs / 1000)} s after ${attempt} boot attempt(s) (${reason})${details()}`,
                { subsystem: SUBSYSTEM },
              );
            }
            // An early-boot hang under TCG happens now and then; a fresh boot gets past it.
            socket?.destroy();
            if (child?.pid !== undefined) {
              signalGroup(child.pid, "SIGKILL");
              signalProcess(child.pid, "SIGKILL");
            }
            await exited;
            consoleLog.write(
              Buffer.from(
                `\nactvm: boot attempt ${attempt} hung for ${Math.round(bootAttemptMs / 1000)} s; booting again\n`,
              ),
            );
          }
        }
        const { proc, conn, client } = booted;
        const pid = proc.pid as number;
        const state: QemuVmState = {
          dir,
          child: proc,
          pid,
          socket: conn,
          exited,
          console: consoleLog,
          released: false,
          watchdog: { stop: () => undefined },
        };
        const fail = (why: string): void => {
          if (state.released || state.failure) return;
          state.failure = new ActvmError("VMM_FAILED", `qemu (pid ${pid}) ${why}`, {
            subsystem: SUBSYSTEM,
            hint: "The job did not fail by itself; run it again.",
          });
          state.watchdog.stop();
          // Fail pending calls first (with the reason set above), then stop the VMM for good.
          conn.destroy(state.failure);
          signalGroup(pid, "SIGKILL");
          signalProcess(pid, "SIGKILL");
        };
        void exited.then((exit) => fail(`exited unexpectedly ${describeExit(exit)}`));
        state.watchdog = startVmmWatchdog({
          pid,
          ping: () => client.ping(),
          intervalMs: watchdogIntervalMs,
          timeoutMs: watchdogTimeoutMs,
          onTrip: (why) => fail(`was killed by the watchdog: ${why}`),
        });
        const agent: AgentClient = guardAgent(client, () => state.failure);
        const vm: Vm = {
          id: dir.id,
          backend: "qemu",
          paths: { ...QEMU_GUEST_PATHS },
          agent: () => agent,
        };
        live.set(vm, state);
        return vm;
      } catch (err) {
        socket?.destroy();
        if (child?.pid !== undefined) {
          signalGroup(child.pid, "SIGKILL");
          signalProcess(child.pid, "SIGKILL");
        }
        await exited;
        await killProcessesOf([], dir.dir, graceMs);
        consoleLog.close();
        await dir.remove();
        if (err instanceof ActvmError) throw err;
        throw new ActvmError("VM_ALLOCATION", `${(err as Error).message}${details()}`, {
          subsystem: SUBSYSTEM,
          cause: err,
        });
      }
    },

    release(vm: Vm): Promise<void> {
      return releaseOnce(live, vm, teardown);
    },
  };
}

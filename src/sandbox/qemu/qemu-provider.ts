import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { availableParallelism, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  connectAgent,
  encodeFrame,
  type AgentClient,
  type HelloMessage,
} from "../../guest/index.ts";
import {
  buildInitramfs,
  fetchKernel,
  findImage,
  runTool,
  type ImageInfo,
} from "../../image/index.ts";
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
import { applyGuestIdentity, newGuestIdentity } from "./fresh-identity.ts";
import { buildQemuArgs } from "./qemu-args.ts";
import { detectAccel, type AccelDecision } from "./qemu-accel.ts";
import { connectQmp, type QmpClient, type QmpEvent } from "./qmp-client.ts";
import { qmpQuit } from "./qmp-quit.ts";
import { snapshotKey } from "./snapshot-key.ts";
import {
  discardTemplate,
  loadTemplate,
  saveTemplate,
  TEMPLATE_DISK_FILE,
  TEMPLATE_STATE_FILE,
  type VmTemplate,
} from "./snapshot-store.ts";
import { vmSize } from "./vm-size.ts";
import { startVmmWatchdog, type VmmWatchdog } from "./vmm-watchdog.ts";
import { createWarmPool, type WarmPool } from "./warm-pool.ts";

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
  /** Progress of one-time work (kernel download, initramfs build, VM template snapshot). */
  onProgress?(message: string): void;
  /**
   * Start VMs by restoring a snapshot of a booted guest instead of booting them. The template
   * (RAM state plus its disk, kept read-only) is made on first use per image, size,
   * accelerator and kernel, and kept in `snapshotsDir`. Default false.
   */
  snapshots?: boolean;
  /** Where templates live. Default `<baseDir>/../cache/snapshots`. */
  snapshotsDir?: string;
  /**
   * VMs kept ready per image and size (jobs with network are never pooled), refilled in the
   * background; `close()` releases them. Default 0 (no pool).
   */
  warmPool?: number;
}

/** The `qemu` driver's provider, with its extra controls. */
export interface QemuProvider extends VmProvider {
  /** Fills the warm pool for `spec`'s image and size; resolves when it is full. */
  prewarm(spec: VmSpec): Promise<void>;
  /** Stops refilling the warm pool and releases its idle VMs. */
  close(): Promise<void>;
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

/** QEMU could not load a template's state; the template is discarded and rebuilt. */
class RestoreFailed extends Error {}

/** What a VM is started from: a fresh boot (on `disk` when given), or a template's state. */
type LaunchPlan = { kind: "boot"; disk?: string } | { kind: "restore"; template: VmTemplate };

/** Everything resolved once per allocation before a VM is started. */
interface LaunchContext {
  qemu: string;
  qemuImg: string;
  image: ImageInfo;
  accel: AccelDecision["accel"];
  reason: string;
  tscKhz: number | undefined;
  boot: BootFiles;
  size: { cpus: number; memoryMb: number };
  network: boolean;
}

/** A started VM before it is wrapped for a caller. */
interface Launched {
  dir: VmDir;
  proc: ChildProcess;
  conn: Socket;
  client: AgentClient & { hello: HelloMessage };
  exited: Promise<AgentExit>;
  console: ConsoleLog;
}

/** Prefixes a stream with a hello frame, for an agent whose own hello predates the snapshot. */
function withHello(input: Socket, hello: HelloMessage): NodeJS.ReadableStream {
  const out = new PassThrough();
  out.write(encodeFrame(hello));
  input.pipe(out);
  input.once("close", () => out.destroy());
  input.once("error", (err) => out.destroy(err));
  return out;
}

function migrationOver(event: QmpEvent): boolean {
  const status = event.data?.status;
  return status === "completed" || status === "failed" || status === "cancelled";
}

function unavailable(detail: string, hint?: string): ActvmError {
  return new ActvmError("SANDBOX_UNAVAILABLE", detail, { subsystem: SUBSYSTEM, hint });
}

/**
 * The `qemu` driver: each job runs in a QEMU `microvm` booted from the image's raw ext4
 * behind a per-VM qcow2 overlay (the base image is never written), with the agent on a
 * virtio-serial port, no NIC unless the job asks for network (then user-mode NAT), QEMU's
 * seccomp sandbox on, and a watchdog that kills a hung or stopped VMM and fails the job's
 * pending agent calls as an infrastructure failure. With `snapshots`, VMs start by restoring
 * a snapshot of a booted guest and get a fresh identity before they are handed out; with
 * `warmPool`, that many are kept ready per image and size.
 *
 * @example
 * const provider = createQemuProvider({ baseDir, imagesDir, kernelCacheDir });
 * const vm = await provider.allocate({ label: "job-1", network: false });
 * try { await vm.agent().ping(); } finally { await provider.release(vm); }
 */
export function createQemuProvider(options: QemuProviderOptions): QemuProvider {
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

  const cancelled = (): ActvmError =>
    new ActvmError("CANCELLED", "sandbox allocation was aborted", { subsystem: SUBSYSTEM });

  const prepare = async (spec: VmSpec, signal?: AbortSignal): Promise<LaunchContext> => {
    if (signal?.aborted) throw cancelled();
    const qemu = await findExecutable(options.qemuPath ?? "qemu-system-x86_64");
    if (!qemu) throw unavailable("QEMU is not installed", "apt-get install qemu-system-x86");
    const qemuImg = await findExecutable(options.qemuImgPath ?? "qemu-img");
    if (!qemuImg) throw unavailable("qemu-img is not installed", "apt-get install qemu-utils");
    const name = spec.image ?? defaultImage;
    const image = await findImage(options.imagesDir, name);
    if (!image) {
      throw unavailable(
        `no image ${JSON.stringify(name)} in ${options.imagesDir}`,
        name === "default" ? "actvm image build" : `actvm image build --name ${name}`,
      );
    }
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
    return { qemu, qemuImg, image, accel, reason, tscKhz, boot, size, network: spec.network };
  };

  /** Starts one QEMU for `plan` and connects its agent; cleans up everything when it fails. */
  const launch = async (
    ctx: LaunchContext,
    label: string,
    plan: LaunchPlan,
    signal?: AbortSignal,
  ): Promise<Launched> => {
    const { qemu, qemuImg, accel, reason, tscKhz, boot, size } = ctx;
    const dir = await createVmDir(resolve(options.baseDir), "qemu", label);
    const overlay = plan.kind === "boot" && plan.disk ? plan.disk : join(dir.dir, "overlay.qcow2");
    const agentSocket = join(dir.dir, "agent.sock");
    const qmpSocket = join(dir.dir, "qmp.sock");
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
    const args = (): string[] =>
      buildQemuArgs({
        accel,
        cpus: size.cpus,
        memoryMb: size.memoryMb,
        kernel: boot.kernel,
        initrd: boot.initrd,
        rootDisk: overlay,
        agentSocket,
        qmpSocket,
        network: ctx.network,
        hostname: "actvm",
        tscKhz,
      });
    // A fresh overlay (over `backing`) and a QEMU on it; resolves once QEMU runs.
    const spawnQemu = async (
      backing: string,
      backingFormat: "raw" | "qcow2",
      extraArgs: string[],
    ): Promise<{ proc: ChildProcess; thisExit: Promise<AgentExit>; done: () => boolean }> => {
      for (const f of [overlay, agentSocket, qmpSocket, join(dir.dir, "incoming.sock")])
        await rm(f, { force: true });
      await runTool(
        qemuImg,
        ["create", "-q", "-f", "qcow2", "-b", resolve(backing), "-F", backingFormat, overlay],
        { subsystem: SUBSYSTEM, timeoutMs: 30_000 },
      );
      const proc = spawn(qemu, [...args(), ...extraArgs], {
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
      let qemuDone = false;
      void thisExit.then(() => {
        qemuDone = true;
      });
      return { proc, thisExit, done: () => qemuDone };
    };
    // Waits for the agent's hello on `input`, QEMU's exit or the caller's abort.
    const greet = async (
      conn: Socket,
      input: NodeJS.ReadableStream,
      thisExit: Promise<AgentExit>,
      until: number,
    ): Promise<Launched["client"]> => {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<"aborted">((done) => {
        onAbort = () => done("aborted");
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      const connecting = connectAgent(
        { input, output: conn },
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
      return first.client;
    };
    // One attempt: a fresh overlay and QEMU, connected to the agent by `until` (epoch ms).
    const bootOnce = async (
      until: number,
    ): Promise<{ proc: ChildProcess; conn: Socket; client: Launched["client"] }> => {
      const { proc, thisExit, done } = await spawnQemu(ctx.image.rootfsImage, "raw", []);
      const conn = await connectUnixSocket(agentSocket, until, () => !done());
      socket = conn;
      // The client detaches its listeners when it ends; a late error (e.g. the watchdog's
      // destroy) must not become an uncaught exception.
      conn.on("error", () => undefined);
      return { proc, conn, client: await greet(conn, conn, thisExit, until) };
    };
    // Loads the template's state into a paused QEMU with the same devices, then resumes it.
    // The agent channel is connected before the guest runs, so the guest never sees its host
    // side close: the agent carries on with the connection it had at snapshot time, and the
    // greeting it sent then is replayed to the new client.
    const restoreOnce = async (
      template: VmTemplate,
      until: number,
    ): Promise<{ proc: ChildProcess; conn: Socket; client: Launched["client"] }> => {
      const { proc, thisExit, done } = await spawnQemu(template.disk, "qcow2", [
        "-incoming",
        "defer",
        "-S",
      ]);
      const restoreError = (why: string): RestoreFailed =>
        new RestoreFailed(
          `could not restore the VM snapshot in ${template.dir}: ${why}${details()}`,
        );
      let qmp: QmpClient;
      try {
        qmp = await connectQmp(qmpSocket, until, () => !done());
      } catch (err) {
        throw restoreError(`QMP: ${(err as Error).message}`);
      }
      let conn: Socket;
      try {
        conn = await connectUnixSocket(agentSocket, until, () => !done());
        socket = conn;
        conn.on("error", () => undefined);
        await qmp.execute("migrate-set-capabilities", {
          capabilities: [{ capability: "events", state: true }],
        });
        const over = qmp.waitForEvent("MIGRATION", Math.max(1, until - Date.now()), migrationOver);
        over.catch(() => undefined);
        const incoming = join(dir.dir, "incoming.sock");
        await qmp.execute("migrate-incoming", { uri: `unix:${incoming}` });
        const feed = await connectUnixSocket(incoming, until, () => !done());
        const fed = pipeline(createReadStream(template.state), feed);
        fed.catch(() => undefined);
        const outcome = await Promise.race([
          over.then((e) => ({ status: String(e.data?.status) })),
          thisExit.then((exit) => ({ status: `QEMU exited ${describeExit(exit)}` })),
        ]);
        if (signal?.aborted) throw cancelled();
        if (outcome.status !== "completed") throw restoreError(`migration ${outcome.status}`);
        await qmp.execute("cont");
      } catch (err) {
        if (err instanceof RestoreFailed || err instanceof ActvmError) throw err;
        throw restoreError((err as Error).message);
      } finally {
        qmp.close();
      }
      let client: Launched["client"];
      try {
        client = await greet(conn, withHello(conn, template.record.hello), thisExit, until);
        // The greeting was replayed: only an answer proves the restored agent is there.
        await Promise.race([
          client.ping(),
          sleep(Math.max(1, until - Date.now())).then(() => {
            throw new Error("the restored agent did not answer a ping");
          }),
        ]);
      } catch (err) {
        if (err instanceof ActvmError && err.code === "CANCELLED") throw err;
        throw restoreError(err instanceof BootTimeout ? "no agent" : (err as Error).message);
      }
      // Before anything of the job's (secrets above all) enters: no two clones may share
      // hostname, machine-id or kernel RNG state, and the clock must not lag.
      await applyGuestIdentity(client, newGuestIdentity(), SUBSYSTEM);
      return { proc, conn, client };
    };

    try {
      const deadline = Date.now() + readyTimeoutMs;
      let started: { proc: ChildProcess; conn: Socket; client: Launched["client"] } | undefined;
      if (plan.kind === "restore") started = await restoreOnce(plan.template, deadline);
      for (let attempt = 1; !started; attempt++) {
        const last = attempt >= bootAttempts || deadline - Date.now() <= bootAttemptMs;
        try {
          started = await bootOnce(last ? deadline : Date.now() + bootAttemptMs);
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
      return { dir, ...started, exited, console: consoleLog };
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
      if (err instanceof ActvmError || err instanceof RestoreFailed) throw err;
      throw new ActvmError("VM_ALLOCATION", `${(err as Error).message}${details()}`, {
        subsystem: SUBSYSTEM,
        cause: err,
      });
    }
  };

  let pool: WarmPool<Vm, VmSpec> | undefined;

  /** Hands a started VM out: watchdog on, agent calls guarded, known to `release`. */
  const wrap = (started: Launched): Vm => {
    const { dir, proc, conn, client, exited } = started;
    const pid = proc.pid as number;
    const state: QemuVmState = {
      dir,
      child: proc,
      pid,
      socket: conn,
      exited,
      console: started.console,
      released: false,
      watchdog: { stop: () => undefined },
    };
    const vm: Vm = {
      id: dir.id,
      backend: "qemu",
      paths: { ...QEMU_GUEST_PATHS },
      agent: () => agent,
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
      // Nobody owns a pooled VM yet, so nobody else would release it.
      if (pool?.remove(vm)) void releaseOnce(live, vm, teardown).catch(() => undefined);
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
    live.set(vm, state);
    return vm;
  };

  const snapshotsDir = resolve(
    options.snapshotsDir ?? join(dirname(resolve(options.baseDir)), "cache", "snapshots"),
  );
  const templates = new Map<string, Promise<VmTemplate>>();
  // Keys whose snapshots failed twice in this process: they boot instead of retrying forever.
  const restoreFailures = new Map<string, number>();

  /** Boots a VM on `tmp`'s template disk and saves its RAM and device state beside it. */
  const buildTemplate = async (
    ctx: LaunchContext,
    tmp: string,
    signal?: AbortSignal,
  ): Promise<{ hello: HelloMessage }> => {
    const started = await launch(
      ctx,
      "template",
      { kind: "boot", disk: join(tmp, TEMPLATE_DISK_FILE) },
      signal,
    );
    const state: QemuVmState = {
      dir: started.dir,
      child: started.proc,
      pid: started.proc.pid as number,
      socket: started.conn,
      exited: started.exited,
      console: started.console,
      released: false,
      watchdog: { stop: () => undefined },
    };
    try {
      // Idle and answering: no request may be half-way through when the RAM is frozen.
      await started.client.ping();
      const qmp = await connectQmp(join(started.dir.dir, "qmp.sock"), Date.now() + 10_000);
      const server = createServer();
      try {
        await qmp.execute("stop");
        const sock = join(started.dir.dir, "migrate.sock");
        const received = new Promise<void>((done, fail) => {
          server.once("connection", (c) => {
            server.close();
            pipeline(c, createWriteStream(join(tmp, TEMPLATE_STATE_FILE), { mode: 0o600 })).then(
              done,
              fail,
            );
          });
          server.once("error", fail);
        });
        received.catch(() => undefined);
        await new Promise<void>((done, fail) => {
          server.once("error", fail);
          server.listen(sock, done);
        });
        await qmp.execute("migrate-set-capabilities", {
          capabilities: [{ capability: "events", state: true }],
        });
        const over = qmp.waitForEvent("MIGRATION", readyTimeoutMs, migrationOver);
        await qmp.execute("migrate", { uri: `unix:${sock}` });
        const event = await over;
        if (event.data?.status !== "completed") {
          throw new ActvmError(
            "VM_ALLOCATION",
            `saving the VM snapshot ended with migration ${String(event.data?.status)}`,
            { subsystem: SUBSYSTEM },
          );
        }
        await received;
      } finally {
        server.close();
        qmp.close();
      }
      return { hello: started.client.hello };
    } finally {
      await teardown(state);
    }
  };

  const templateFor = (
    ctx: LaunchContext,
    signal?: AbortSignal,
    attempt = 1,
  ): Promise<VmTemplate> =>
    (async () => {
      const key = await snapshotKey({
        imageId: ctx.image.id,
        imageHash: ctx.image.hash,
        rootfsImage: ctx.image.rootfsImage,
        cpus: ctx.size.cpus,
        memoryMb: ctx.size.memoryMb,
        accel: ctx.accel,
        tscKhz: ctx.tscKhz,
        kernel: ctx.boot.kernel,
        initrd: ctx.boot.initrd,
        qemu: ctx.qemu,
      });
      let pending = templates.get(key.hash);
      if (!pending) {
        pending = (async () => {
          const found = await loadTemplate(snapshotsDir, key);
          if (found) return found;
          options.onProgress?.(
            `qemu: making a VM snapshot for ${ctx.image.name} (${ctx.size.cpus} vCPU, ${ctx.size.memoryMb} MB); later VMs restore it`,
          );
          return saveTemplate(snapshotsDir, key, (tmp) => buildTemplate(ctx, tmp, signal));
        })();
        templates.set(key.hash, pending);
        // A failed or aborted build is retried by the next allocation.
        pending.catch(() => templates.delete(key.hash));
      }
      await pending;
      // Someone (a test, an operator) may have removed or altered it since it was loaded.
      const still = await loadTemplate(snapshotsDir, key);
      if (still) return still;
      templates.delete(key.hash);
      if (attempt >= 2) throw new Error(`the VM snapshot in ${snapshotsDir} keeps vanishing`);
      return templateFor(ctx, signal, attempt + 1);
    })();

  const poolKey = (ctx: LaunchContext): string =>
    `${ctx.image.id}/${ctx.size.cpus}/${ctx.size.memoryMb}`;

  /** Restores from the template when snapshots are on, otherwise (or when that fails) boots. */
  const startVm = async (ctx: LaunchContext, label: string, signal?: AbortSignal): Promise<Vm> => {
    const poolKeyText = poolKey(ctx);
    if (options.snapshots && !ctx.network && (restoreFailures.get(poolKeyText) ?? 0) < 2) {
      let template: VmTemplate | undefined;
      try {
        template = await templateFor(ctx, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        // Another caller's build may have been aborted; that says nothing about the template.
        if (!(err instanceof ActvmError && err.code === "CANCELLED")) {
          restoreFailures.set(poolKeyText, (restoreFailures.get(poolKeyText) ?? 0) + 1);
          options.onProgress?.(
            `qemu: could not make a VM snapshot, booting instead: ${(err as Error).message}`,
          );
        }
      }
      if (template) {
        try {
          return wrap(await launch(ctx, label, { kind: "restore", template }, signal));
        } catch (err) {
          if (!(err instanceof RestoreFailed)) throw err;
          // Never half-use a template QEMU rejected: drop it; the next VM makes a new one.
          restoreFailures.set(poolKeyText, (restoreFailures.get(poolKeyText) ?? 0) + 1);
          await discardTemplate(template).catch(() => undefined);
          for (const [k, p] of templates) {
            if ((await p.catch(() => undefined))?.dir === template.dir) templates.delete(k);
          }
          options.onProgress?.(`qemu: ${err.message}; booting instead`);
        }
      }
    }
    return wrap(await launch(ctx, label, { kind: "boot" }, signal));
  };

  const warmPoolSize = Math.max(0, Math.floor(options.warmPool ?? 0));
  if (warmPoolSize > 0) {
    pool = createWarmPool<Vm, VmSpec>({
      size: warmPoolSize,
      create: async (spec, signal) => startVm(await prepare(spec, signal), "warm", signal),
      dispose: (vm) => releaseOnce(live, vm, teardown),
      healthy: (vm) => {
        const state = live.get(vm);
        return state !== undefined && !state.failure && !state.released;
      },
      onError: (err) =>
        options.onProgress?.(`qemu: warm pool could not start a VM: ${(err as Error).message}`),
    });
  }

  return {
    name: "qemu",

    probe() {
      probed ??= probe();
      return probed;
    },

    async allocate(spec: VmSpec, signal?: AbortSignal): Promise<Vm> {
      const label = assertVmLabel(spec.label, SUBSYSTEM);
      const ctx = await prepare(spec, signal);
      if (pool && !spec.network) {
        const pooled = pool.take(poolKey(ctx), { ...spec, label: "warm", network: false });
        if (pooled) return pooled;
      }
      return startVm(ctx, label, signal);
    },

    release(vm: Vm): Promise<void> {
      return releaseOnce(live, vm, teardown);
    },

    async prewarm(spec: VmSpec): Promise<void> {
      if (!pool || spec.network) return;
      const ctx = await prepare(spec);
      await pool.fill(poolKey(ctx), { ...spec, label: "warm", network: false });
    },

    async close(): Promise<void> {
      await pool?.close();
    },
  };
}

import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive, processRef } from "../process-control.ts";
import { sweepLeftovers } from "../sweep-leftovers.ts";
import type { Vm, VmProvider } from "../types.ts";
import { readOwnerRecord } from "../vm-dir.ts";
import {
  failWhenRequired,
  image,
  IMAGES_DIR,
  KERNEL_CACHE,
  run,
  sha256,
  SKIP_REASON,
} from "./qemu-fixture.test-support.ts";
import { createQemuProvider } from "./qemu-provider.ts";

// Booting costs ~7 s under TCG, so one VM serves every read-only check and only the
// watchdog and boot-failure cases get VMs of their own.
failWhenRequired("qemu provider");

async function qemuPidOf(baseDir: string, vm: Vm): Promise<number> {
  const record = await readOwnerRecord(join(baseDir, vm.id));
  const pid = record?.processes[0]?.pid;
  if (!pid) throw new Error(`no QEMU recorded for ${vm.id}`);
  return pid;
}

describe.skipIf(SKIP_REASON !== undefined)(`qemu provider (${SKIP_REASON ?? "TCG"})`, () => {
  let work: string;
  let baseDir: string;
  let provider: VmProvider;
  let vm: Vm;
  let baseHash: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "actvm-qemu-"));
    baseDir = join(work, "vms");
    provider = createQemuProvider({
      baseDir,
      imagesDir: IMAGES_DIR,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 768,
    });
    baseHash = await sha256((image as { rootfsImage: string }).rootfsImage);
    vm = await provider.allocate({ label: "shared", network: false });
  }, 180_000);

  afterAll(async () => {
    if (vm) await provider.release(vm);
    await rm(work, { recursive: true, force: true });
  });

  it("probes as an available VM backend and says which accelerator and why", async () => {
    const probe = await provider.probe();
    expect(probe.available).toBe(true);
    expect(probe.isolation).toBe("vm");
    expect(probe.detail).toMatch(/QEMU \S+ microvm, (TCG|KVM): /);
  });

  it("boots a guest whose agent runs on the image's Node 18 under the hostname actvm", async () => {
    const info = await vm.agent().ping();
    expect(info.node).toMatch(/^v18\./);
    expect(info.platform).toBe("linux");
    const { out } = await run(vm, "hostname; uname -r");
    expect(out.split("\n")[0]).toBe("actvm");
    expect(out).toMatch(/cloud-amd64/);
  });

  it("runs commands with their output and exit code", async () => {
    const r = await run(vm, "echo out; echo err >&2; exit 7");
    expect(r.code).toBe(7);
    expect(r.out).toContain("out\n");
    expect(r.out).toContain("err\n");
  });

  it("has no network interface but loopback by default", async () => {
    const { out } = await run(vm, "ls /sys/class/net");
    expect(out.trim().split(/\s+/)).toEqual(["lo"]);
  });

  it("copies a tree in and out through the agent's tar streams", async () => {
    const src = join(work, "src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "a.txt"), "alpha\n");
    await writeFile(join(src, "sub", "b.bin"), Buffer.alloc(300_000, 7));
    const tarIn = execFileSync("tar", ["-C", src, "-cf", "-", "."]);
    await vm.agent().putTar("/home/runner/work/workspace", tarIn);
    const check = await run(vm, "cat /home/runner/work/workspace/a.txt");
    expect(check.out).toBe("alpha\n");

    const chunks: Buffer[] = [];
    for await (const c of vm.agent().getTar("/home/runner/work/workspace")) chunks.push(c);
    const dest = join(work, "dest");
    await mkdir(dest);
    execFileSync("tar", ["-C", dest, "-xf", "-"], { input: Buffer.concat(chunks) });
    expect(await readFile(join(dest, "workspace", "a.txt"), "utf8")).toBe("alpha\n");
    expect(
      (await readFile(join(dest, "workspace", "sub", "b.bin"))).equals(Buffer.alloc(300_000, 7)),
    ).toBe(true);
  });

  it("writes to a per-VM overlay and never to the base image", async () => {
    const overlay = join(baseDir, vm.id, "overlay.qcow2");
    expect(existsSync(overlay)).toBe(true);
    const w = await run(
      vm,
      "dd if=/dev/urandom of=/var/tmp/big bs=1M count=8 2>/dev/null && rm -f /etc/os-release && sync && echo ok",
    );
    expect(w.out.trim()).toBe("ok");
    expect(await sha256((image as { rootfsImage: string }).rootfsImage)).toBe(baseHash);
  });

  it("release kills QEMU and removes the VM directory with its overlay and sockets", async () => {
    const pid = await qemuPidOf(baseDir, vm);
    const dir = join(baseDir, vm.id);
    expect(isProcessAlive({ pid, startTime: null })).toBe(true);
    await provider.release(vm);
    expect(isProcessAlive({ pid, startTime: null })).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // Releasing twice is harmless.
    await provider.release(vm);
  });
});

describe.skipIf(SKIP_REASON !== undefined)("qemu provider failures", () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "actvm-qemu-fail-"));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("kills a stopped VMM and fails pending calls as an infrastructure failure", async () => {
    const baseDir = join(work, "vms");
    const provider = createQemuProvider({
      baseDir,
      imagesDir: IMAGES_DIR,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 512,
      watchdogIntervalMs: 200,
      watchdogTimeoutMs: 1500,
    });
    const vm = await provider.allocate({ label: "stopped", network: false });
    try {
      const pid = await qemuPidOf(baseDir, vm);
      const pending = vm.agent().exec({ argv: ["sleep", "60"], cwd: "/", env: {} }).result;
      process.kill(pid, "SIGSTOP");
      const started = Date.now();
      await expect(pending).rejects.toThrow(
        /^\[sandbox\/qemu\] VMM failed \(infrastructure failure\): qemu \(pid \d+\) was killed by the watchdog: .*stopped/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      await expect(vm.agent().ping()).rejects.toThrow(/infrastructure failure/);
      for (let i = 0; i < 50 && isProcessAlive({ pid, startTime: null }); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(isProcessAlive({ pid, startTime: null })).toBe(false);
    } finally {
      await provider.release(vm);
    }
    expect(existsSync(join(baseDir, vm.id))).toBe(false);
  }, 120_000);

  it("boots afresh when a boot attempt hangs, and keeps the VM it gets", async () => {
    // The first QEMU starts paused (-S) and so never boots, like an early-boot hang.
    const wrapper = join(work, "hanging-once-qemu");
    const marker = join(work, "hung-once");
    await writeFile(
      wrapper,
      `#!/bin/sh\nif [ ! -e ${marker} ]; then : > ${marker}; exec qemu-system-x86_64 "$@" -S; fi\nexec qemu-system-x86_64 "$@"\n`,
      { mode: 0o755 },
    );
    const baseDir = join(work, "vms-retry");
    const provider = createQemuProvider({
      baseDir,
      imagesDir: IMAGES_DIR,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 512,
      qemuPath: wrapper,
      bootAttemptMs: 10_000,
    });
    const vm = await provider.allocate({ label: "retry", network: false });
    try {
      expect((await vm.agent().ping()).node).toMatch(/^v18\./);
      const dir = join(baseDir, vm.id);
      expect(await readFile(join(dir, "console.log"), "utf8")).toContain(
        "actvm: boot attempt 1 hung for 10 s; booting again",
      );
      const record = await readOwnerRecord(dir);
      // One QEMU per attempt, all recorded for the sweeper; only the last one still runs.
      expect(record?.processes.length).toBeGreaterThanOrEqual(2);
      expect(isProcessAlive(record?.processes[0] as never)).toBe(false);
    } finally {
      await provider.release(vm);
    }
    expect(existsSync(join(baseDir, vm.id))).toBe(false);
  }, 120_000);

  it("fails allocation with the initramfs's reason when the root disk cannot boot", async () => {
    const imagesDir = join(work, "images");
    const imageDir = join(imagesDir, "broken-000000000000");
    await mkdir(imageDir, { recursive: true });
    execFileSync("mkfs.ext4", ["-q", join(imageDir, "rootfs.ext4"), "16M"]);
    await writeFile(
      join(imageDir, "image.json"),
      JSON.stringify({
        version: 1,
        name: "broken",
        id: "broken-000000000000",
        hash: "0".repeat(64),
        packages: [],
        sizeBytes: 16 << 20,
        builtAt: new Date().toISOString(),
        buildMs: 1,
        suite: "bookworm",
        arch: "amd64",
        mirror: "none",
      }),
    );
    const baseDir = join(work, "vms-broken");
    const provider = createQemuProvider({
      baseDir,
      imagesDir,
      imageName: "broken",
      readyTimeoutMs: 40_000,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 256,
    });
    await expect(provider.allocate({ label: "broken", network: false })).rejects.toThrow(
      /QEMU exited .*before the guest agent was ready[\s\S]*has no executable \/sbin\/actvm-init/,
    );
    const left = existsSync(baseDir) ? await readdir(baseDir) : [];
    expect(left).toEqual([]);
  }, 120_000);

  it("sweeps the QEMU process and directory of an actvm that crashed", async () => {
    const baseDir = join(work, "vms-crashed");
    const dir = join(baseDir, "crashed-0123456789");
    await mkdir(dir, { recursive: true });
    // The owner: a process that has already exited, as after kill -9 of actvm.
    const owner = spawn("true");
    const ownerRef = processRef(owner.pid as number);
    await new Promise((r) => owner.once("exit", r));
    const qemu = spawn(
      "qemu-system-x86_64",
      ["-M", "microvm", "-S", "-nodefaults", "-display", "none", "-accel", "tcg"],
      { cwd: dir, detached: true, stdio: "ignore" },
    );
    const qemuRef = processRef(qemu.pid as number);
    const gone = new Promise((r) => qemu.once("exit", r));
    await writeFile(
      join(dir, "owner.json"),
      JSON.stringify({
        version: 1,
        vmId: "crashed-0123456789",
        backend: "qemu",
        label: "crashed",
        owner: ownerRef,
        createdAt: Date.now(),
        processes: [qemuRef],
      }),
    );
    await writeFile(join(dir, "overlay.qcow2"), "x");
    expect(isProcessAlive(qemuRef)).toBe(true);
    const report = await sweepLeftovers(baseDir);
    await gone;
    expect(report.killed).toContain(qemuRef.pid);
    expect(report.removed).toEqual([dir]);
    expect(existsSync(dir)).toBe(false);
    expect(isProcessAlive(qemuRef)).toBe(false);
  });
});

describe.skipIf(SKIP_REASON !== undefined)("qemu provider with network", () => {
  it("gives a job that asks for network a NIC behind user-mode NAT that reaches the host", async () => {
    const work = await mkdtemp(join(tmpdir(), "actvm-qemu-net-"));
    const server = createServer((s) => s.end("hello from the host\n"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const provider = createQemuProvider({
      baseDir: join(work, "vms"),
      imagesDir: IMAGES_DIR,
      kernelCacheDir: KERNEL_CACHE,
      memoryMb: 512,
    });
    const vm = await provider.allocate({ label: "net", network: true });
    try {
      const { out } = await run(
        vm,
        `ls /sys/class/net; cat /etc/resolv.conf; node -e 'require("net").connect(${port}, "10.0.2.2").on("data", (d) => process.stdout.write(d))'`,
      );
      expect(out).toMatch(/^eth0\nlo\n/);
      expect(out).toContain("nameserver 10.0.2.3");
      expect(out).toContain("hello from the host");
    } finally {
      await provider.release(vm);
      server.close();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isActvmError } from "../../shared/errors.ts";
import type { Vm, VmProvider } from "../types.ts";
import { createHostProvider } from "./host-provider.ts";

async function sh(vm: Vm, script: string): Promise<{ code: number | null; out: string }> {
  const chunks: Buffer[] = [];
  const handle = vm.agent().exec(
    {
      argv: ["sh", "-c", script],
      cwd: vm.paths.workspace,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: vm.paths.home },
    },
    { onStdout: (c) => chunks.push(c), onStderr: (c) => chunks.push(c) },
  );
  const result = await handle.result;
  return { code: result.exitCode, out: Buffer.concat(chunks).toString("utf8") };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function hostPidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe("host provider", () => {
  let root: string;
  let baseDir: string;
  let provider: VmProvider;
  const vms: Vm[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "actvm-host-"));
    baseDir = join(root, "vms");
    provider = createHostProvider({ baseDir });
  });
  afterEach(async () => {
    for (const vm of vms.splice(0)) await provider.release(vm);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const allocate = async (label = "job"): Promise<Vm> => {
    const vm = await provider.allocate({ label, network: true });
    vms.push(vm);
    return vm;
  };

  it("probes as always available but says jobs are not isolated", async () => {
    const result = await provider.probe();
    expect(result.available).toBe(true);
    expect(result.isolation).toBe("none");
    expect(result.detail).toMatch(/NOT isolated/);
  });

  it("allocates a throwaway tree with an owner record and runs the agent in its workspace", async () => {
    const vm = await allocate("tree");
    const dir = join(baseDir, vm.id);
    expect(vm.id).toMatch(/^tree-[0-9a-f]{10}$/);
    expect(vm.paths).toEqual({
      workspace: join(dir, "workspace"),
      temp: join(dir, "temp"),
      toolCache: join(dir, "tool-cache"),
      actions: join(dir, "actions"),
      home: join(dir, "home"),
    });
    for (const p of Object.values(vm.paths)) expect(statSync(p).isDirectory()).toBe(true);
    const owner = JSON.parse(readFileSync(join(dir, "owner.json"), "utf8"));
    expect(owner.owner.pid).toBe(process.pid);
    const info = await vm.agent().ping();
    expect(owner.processes.map((p: { pid: number }) => p.pid)).toEqual([info.pid]);
    const r = await sh(vm, "pwd");
    expect(r.out.trim()).toBe(vm.paths.workspace);
  });

  it("gives two VMs separate trees", async () => {
    const a = await allocate("same");
    const b = await allocate("same");
    expect(a.id).not.toBe(b.id);
    await sh(a, "echo a > mine");
    expect(existsSync(join(b.paths.workspace, "mine"))).toBe(false);
  });

  it("does not hand the host's environment to the agent", async () => {
    process.env.ACTVM_TEST_HOST_SECRET = "host-secret-value";
    try {
      const vm = await allocate("env");
      const agentPid = (await vm.agent().ping()).pid;
      const environ = readFileSync(`/proc/${agentPid}/environ`, "utf8");
      expect(environ).toContain(`HOME=${vm.paths.home}`);
      expect(environ).not.toContain("host-secret-value");
    } finally {
      delete process.env.ACTVM_TEST_HOST_SECRET;
    }
  });

  it("on release kills the agent and a daemon the job detached, and removes the tree", async () => {
    const vm = await provider.allocate({ label: "leak", network: false });
    const marker = `${400 + Math.floor(Math.random() * 500)}.${Date.now() % 1_000_000}`;
    const agentPid = (await vm.agent().ping()).pid;
    await sh(
      vm,
      `RUNNER_TRACKING_ID=0 env -u ACTVM_TRACKING_ID setsid nohup sleep ${marker} >/dev/null 2>&1 </dev/null &`,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(hostPidsWithCmdline(`sleep ${marker}`).length).toBeGreaterThan(0);
    await provider.release(vm);
    expect(alive(agentPid)).toBe(false);
    expect(hostPidsWithCmdline(`sleep ${marker}`)).toEqual([]);
    expect(existsSync(join(baseDir, vm.id))).toBe(false);
  });

  it("on release kills a process working in the VM's tree even if the agent never started it", async () => {
    const vm = await provider.allocate({ label: "stray", network: false });
    const stray = spawn("sleep", ["600"], {
      cwd: vm.paths.temp,
      detached: true,
      stdio: "ignore",
    });
    stray.unref();
    const exited = new Promise((r) => stray.once("exit", r));
    expect(alive(stray.pid as number)).toBe(true);
    await provider.release(vm);
    await exited;
    expect(stray.signalCode).toBe("SIGKILL");
  });

  it("treats a second and a concurrent release as no-ops", async () => {
    const vm = await provider.allocate({ label: "twice", network: false });
    await Promise.all([provider.release(vm), provider.release(vm)]);
    await expect(provider.release(vm)).resolves.toBeUndefined();
    expect(existsSync(join(baseDir, vm.id))).toBe(false);
  });

  it("removes a tree in which the job left read-only directories", async () => {
    const vm = await provider.allocate({ label: "readonly", network: false });
    await sh(vm, "mkdir -p locked/inner && touch locked/inner/f && chmod 0500 locked/inner locked");
    await provider.release(vm);
    expect(existsSync(join(baseDir, vm.id))).toBe(false);
  });

  it("fails with the exit status and stderr and leaves nothing when the agent cannot start", async () => {
    const broken = createHostProvider({ baseDir, nodePath: "/bin/sh", readyTimeoutMs: 5_000 });
    const before = readdirSync(baseDir);
    await expect(broken.allocate({ label: "broken", network: false })).rejects.toSatisfy(
      (e: unknown) => isActvmError(e, "VM_ALLOCATION") && /exited with code/.test(String(e)),
    );
    expect(readdirSync(baseDir)).toEqual(before);
  });

  it("fails with CANCELLED and leaves nothing when aborted while the agent starts", async () => {
    const before = readdirSync(baseDir);
    for (const delayMs of [0, 5, 20]) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), delayMs);
      const result = await provider.allocate({ label: "abort", network: false }, ac.signal).then(
        (vm) => vm,
        (e: unknown) => e,
      );
      if (!isActvmError(result, "CANCELLED")) {
        // The agent won the race; that sandbox must still be released cleanly.
        await provider.release(result as Vm);
      }
    }
    expect(readdirSync(baseDir)).toEqual(before);
  });

  it("rejects every label outside [A-Za-z0-9-]{1,64} before touching the disk", async () => {
    const before = existsSync(baseDir) ? readdirSync(baseDir) : [];
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }).filter((s) => !/^[A-Za-z0-9-]{1,64}$/.test(s)),
        async (label) => {
          await expect(provider.allocate({ label, network: false })).rejects.toSatisfy(
            (e: unknown) => isActvmError(e, "VM_ALLOCATION"),
          );
        },
      ),
      { numRuns: 100 },
    );
    expect(existsSync(baseDir) ? readdirSync(baseDir) : []).toEqual(before);
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isActvmError } from "../../shared/errors.ts";
import type { Vm, VmProvider } from "../types.ts";
import { BWRAP_GUEST_PATHS } from "./bwrap-args.ts";
import { createBwrapProvider } from "./bwrap-provider.ts";

const probeDir = mkdtempSync(join(tmpdir(), "actvm-bwrap-probe-"));
const probe = await createBwrapProvider({ baseDir: probeDir }).probe();
rmSync(probeDir, { recursive: true, force: true });
const SKIP_REASON = probe.available
  ? ""
  : `bubblewrap is not usable here (${probe.detail}); install the package: apt-get install bubblewrap`;

if (SKIP_REASON && process.env.ACTVM_REQUIRE_ALL === "1") {
  describe("bwrap provider (ACTVM_REQUIRE_ALL=1)", () => {
    it("requires a working bubblewrap", () => {
      expect.fail(SKIP_REASON);
    });
  });
}

async function sh(vm: Vm, script: string): Promise<{ code: number | null; out: string }> {
  const chunks: Buffer[] = [];
  const handle = vm.agent().exec(
    {
      argv: ["sh", "-c", script],
      cwd: vm.paths.workspace,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: vm.paths.home },
    },
    { onStdout: (c) => chunks.push(c), onStderr: (c) => chunks.push(c) },
  );
  const result = await handle.result;
  return { code: result.exitCode, out: Buffer.concat(chunks).toString("utf8") };
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

describe.skipIf(SKIP_REASON !== "")(
  `bwrap provider${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ""}`,
  () => {
    let root: string;
    let baseDir: string;
    let provider: VmProvider;
    const vms: Vm[] = [];

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), "actvm-bwrap-"));
      baseDir = join(root, "state", "vms");
      provider = createBwrapProvider({ baseDir });
    });
    afterEach(async () => {
      for (const vm of vms.splice(0)) await provider.release(vm);
    });
    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });

    const allocate = async (network = false): Promise<Vm> => {
      const vm = await provider.allocate({ label: "test-job", network });
      vms.push(vm);
      return vm;
    };

    it("probes as available with namespace isolation", async () => {
      const result = await provider.probe();
      expect(result).toMatchObject({ available: true, isolation: "namespaces" });
      expect(result.detail).toMatch(/user namespaces work/);
    });

    it("runs the job at the GitHub-like guest paths under the hostname actvm", async () => {
      const vm = await allocate();
      expect(vm.backend).toBe("bwrap");
      expect(vm.paths).toEqual(BWRAP_GUEST_PATHS);
      const r = await sh(vm, "pwd; hostname; echo $HOME");
      expect(r.out.trim().split("\n")).toEqual([
        "/home/runner/work/workspace",
        "actvm",
        "/home/runner",
      ]);
    });

    it("hides the host's /root, /home, /tmp and actvm's state directory", async () => {
      const vm = await allocate();
      const r = await sh(
        vm,
        `ls -A /root; echo --; ls -A /home; echo --; ls -A /tmp; echo --; ls -A ${root}/state 2>&1; echo --; cat /root/.profile 2>&1`,
      );
      const [rootList, homeList, tmpList, stateList, secret] = r.out.split("--\n");
      expect(rootList?.trim()).toBe("");
      expect(homeList?.trim()).toBe("runner");
      expect(tmpList?.trim()).toBe("");
      expect(stateList?.trim()).toMatch(/No such file or directory|^$/);
      expect(secret).toMatch(/No such file or directory/);
      // Only meaningful when the host really has something there to hide.
      if (existsSync("/root/.profile")) expect(readdirSync("/root").length).toBeGreaterThan(0);
    });

    it("hides a state directory outside the default hidden paths", async () => {
      let stateRoot: string;
      try {
        stateRoot = mkdtempSync("/var/lib/actvm-test-");
      } catch {
        return expect.fail("cannot create a test directory under /var/lib");
      }
      try {
        const other = createBwrapProvider({ baseDir: join(stateRoot, "vms") });
        const vm = await other.allocate({ label: "state", network: false });
        try {
          const r = await sh(vm, `ls -A ${stateRoot}`);
          expect(r.out.trim()).toBe("");
          expect(readdirSync(join(stateRoot, "vms"))).toHaveLength(1);
        } finally {
          await other.release(vm);
        }
      } finally {
        rmSync(stateRoot, { recursive: true, force: true });
      }
    });

    it("lets the job write only to its own directories, which land in the VM's host tree", async () => {
      const vm = await allocate();
      const r = await sh(
        vm,
        [
          "echo ws > $PWD/f",
          "echo tmp > /home/runner/work/_temp/f",
          "echo home > /home/runner/f",
          "echo tool > /home/runner/work/_tool/f",
          "echo act > /home/runner/work/_actions/f",
          "touch /usr/actvm-escape 2>/dev/null && echo usr-writable",
          "touch /etc/actvm-escape 2>/dev/null && echo etc-writable",
          "touch /var/actvm-escape 2>/dev/null && echo var-writable",
          "echo done",
        ].join("; "),
      );
      expect(r.out.trim()).toBe("done");
      expect(existsSync("/usr/actvm-escape")).toBe(false);
      const tree = join(baseDir, vm.id);
      expect(readFileSync(join(tree, "workspace", "f"), "utf8")).toBe("ws\n");
      expect(readFileSync(join(tree, "temp", "f"), "utf8")).toBe("tmp\n");
      expect(readFileSync(join(tree, "home", "f"), "utf8")).toBe("home\n");
      expect(readFileSync(join(tree, "tool-cache", "f"), "utf8")).toBe("tool\n");
      expect(readFileSync(join(tree, "actions", "f"), "utf8")).toBe("act\n");
    });

    it("runs in its own pid namespace with bwrap as pid 1", async () => {
      const vm = await allocate();
      const r = await sh(
        vm,
        `tr '\\0' ' ' < /proc/1/cmdline; echo; ls /proc | grep -c '^[0-9]'; test -d /proc/${process.pid} && echo host-pid-visible; true`,
      );
      const [cmdline, count] = r.out.trim().split("\n");
      expect(cmdline).toMatch(/^(\S*\/)?bwrap /);
      expect(Number(count)).toBeLessThan(10);
      expect(r.out).not.toContain("host-pid-visible");
      expect((await vm.agent().ping()).pid).toBeLessThan(10);
    });

    it("keeps no capabilities inside the sandbox", async () => {
      const vm = await allocate();
      const r = await sh(vm, "grep -E '^Cap(Eff|Prm|Amb):' /proc/self/status");
      expect(r.out).toMatch(/CapEff:\s+0+\n/);
      expect(r.out).toMatch(/CapPrm:\s+0+\n/);
    });

    it.skipIf(process.getuid?.() !== 0)(
      "runs jobs of a root actvm as nobody, who cannot read root-only host files",
      async () => {
        expect((await provider.probe()).detail).toContain("jobs run as uid 65534");
        const vm = await allocate();
        const r = await sh(
          vm,
          "id -u; id -g; cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable; echo end",
        );
        expect(r.out.trim().split("\n")).toEqual(["65534", "65534", "end"]);
      },
    );

    it.skipIf(process.getuid?.() !== 0)(
      "keeps root inside a user namespace when sandboxUser is self",
      async () => {
        const self = createBwrapProvider({ baseDir, sandboxUser: "self" });
        const vm = await self.allocate({ label: "self", network: false });
        try {
          const r = await sh(vm, "id -u; grep CapEff /proc/self/status");
          expect(r.out).toMatch(/^0\nCapEff:\s+0+\n$/);
        } finally {
          await self.release(vm);
        }
      },
    );

    it("has no network interface but lo unless the spec asks for network", async () => {
      const isolated = await allocate(false);
      const r = await sh(isolated, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(r.out.trim()).toBe("lo");

      const hostIfaces = readFileSync("/proc/net/dev", "utf8")
        .split("\n")
        .slice(2)
        .map((l) => l.split(":")[0]?.trim())
        .filter((n): n is string => !!n)
        .sort();
      const networked = await allocate(true);
      const n = await sh(networked, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(n.out.trim().split("\n").sort()).toEqual(hostIfaces);
    });

    it("does not hand the host's environment to the agent", async () => {
      process.env.ACTVM_TEST_HOST_SECRET = "bwrap-host-secret-value";
      try {
        const vm = await allocate();
        const agentPid = (await vm.agent().ping()).pid;
        const r = await sh(vm, `tr '\\0' '\\n' < /proc/${agentPid}/environ`);
        expect(r.out).toContain("HOME=/home/runner");
        expect(r.out).not.toContain("bwrap-host-secret-value");
      } finally {
        delete process.env.ACTVM_TEST_HOST_SECRET;
      }
    });

    it("kills a daemon the job detached with setsid and removes the tree on release", async () => {
      const marker = `${400 + Math.floor(Math.random() * 500)}.${Date.now() % 1_000_000}`;
      const vm = await provider.allocate({ label: "leak", network: false });
      const r = await sh(
        vm,
        `RUNNER_TRACKING_ID=0 env -u ACTVM_TRACKING_ID setsid nohup sleep ${marker} >/dev/null 2>&1 </dev/null & echo started`,
      );
      expect(r.out.trim()).toBe("started");
      await new Promise((res) => setTimeout(res, 100));
      expect(hostPidsWithCmdline(`sleep ${marker}`).length).toBeGreaterThan(0);
      await provider.release(vm);
      expect(hostPidsWithCmdline(`sleep ${marker}`)).toEqual([]);
      expect(existsSync(join(baseDir, vm.id))).toBe(false);
      // Idempotent: releasing again neither throws nor does anything.
      await provider.release(vm);
    });

    it("rejects a label that could escape the VM directory, creating nothing", async () => {
      for (const label of ["../x", "a/b", "", "x".repeat(65), "a\0b", "ünï"]) {
        await expect(provider.allocate({ label, network: false })).rejects.toSatisfy((e: unknown) =>
          isActvmError(e, "VM_ALLOCATION"),
        );
      }
      expect(existsSync(baseDir) ? readdirSync(baseDir) : []).toEqual([]);
    });

    it("fails with the exit status and leaves nothing behind when the sandbox cannot start", async () => {
      const broken = createBwrapProvider({ baseDir, bwrapPath: "/bin/false" });
      await expect(broken.allocate({ label: "broken", network: false })).rejects.toSatisfy(
        (e: unknown) => isActvmError(e, "VM_ALLOCATION") && /exited with code 1/.test(String(e)),
      );
      expect(readdirSync(baseDir)).toEqual([]);
    });

    it("fails with CANCELLED and cleans up when the allocation is aborted", async () => {
      await expect(
        provider.allocate({ label: "aborted", network: false }, AbortSignal.abort()),
      ).rejects.toSatisfy((e: unknown) => isActvmError(e, "CANCELLED"));
      const ac = new AbortController();
      const pending = provider.allocate({ label: "aborted", network: false }, ac.signal);
      ac.abort();
      await expect(pending).rejects.toSatisfy((e: unknown) => isActvmError(e, "CANCELLED"));
      expect(readdirSync(baseDir)).toEqual([]);
    });
  },
);

describe("bwrap provider without bubblewrap", () => {
  it("probes as unavailable with the install command as the fix", async () => {
    const p = createBwrapProvider({ baseDir: "/nonexistent", bwrapPath: "/nonexistent/bwrap" });
    expect(await p.probe()).toMatchObject({
      available: false,
      fix: "apt-get install bubblewrap",
    });
  });

  it("refuses to allocate with SANDBOX_UNAVAILABLE", async () => {
    const p = createBwrapProvider({ baseDir: "/nonexistent", bwrapPath: "/nonexistent/bwrap" });
    await expect(p.allocate({ label: "x", network: false })).rejects.toSatisfy((e: unknown) =>
      isActvmError(e, "SANDBOX_UNAVAILABLE"),
    );
  });
});

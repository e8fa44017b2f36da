import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BWRAP_GUEST_PATHS } from "../bwrap/bwrap-args.ts";
import { processRef, type ProcessRef } from "../process-control.ts";
import { sweepLeftovers } from "../sweep-leftovers.ts";
import type { Vm, VmProvider } from "../types.ts";
import { OWNER_FILE, readOwnerRecord } from "../vm-dir.ts";
import { findImage } from "../../image/index.ts";
import { createGvisorProvider, GVISOR_VM_LAYOUT } from "./gvisor-provider.ts";

// A developer may point the tests at images built elsewhere.
const IMAGES_DIR = resolve(
  process.env.ACTVM_TEST_IMAGES_DIR ??
    fileURLToPath(new URL("../../../.test-cache/images", import.meta.url)),
);
const image = await findImage(IMAGES_DIR, "default");
const probeRoot = mkdtempSync(join(tmpdir(), "actvm-gvisor-probe-"));
const probe = await createGvisorProvider({
  baseDir: join(probeRoot, "vms"),
  imagesDir: IMAGES_DIR,
}).probe();
rmSync(probeRoot, { recursive: true, force: true });

const SKIP_REASON = !image
  ? `no test image in ${IMAGES_DIR}; build it with scripts/build-test-image`
  : probe.available
    ? ""
    : `gVisor is not usable here: ${probe.detail}${probe.fix ? ` (fix: ${probe.fix})` : ""}`;

if (SKIP_REASON && process.env.ACTVM_REQUIRE_ALL === "1") {
  describe("gvisor provider (ACTVM_REQUIRE_ALL=1)", () => {
    it("requires runsc and the test image", () => {
      expect.fail(SKIP_REASON);
    });
  });
}

const GUEST_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

async function sh(
  vm: Vm,
  script: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const handle = vm.agent().exec(
    {
      argv: ["sh", "-c", script],
      cwd: vm.paths.workspace,
      env: { PATH: GUEST_PATH, HOME: vm.paths.home },
    },
    { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) },
  );
  const result = await handle.result;
  return {
    code: result.exitCode,
    out: Buffer.concat(out).toString("utf8"),
    err: Buffer.concat(err).toString("utf8"),
  };
}

function hostPidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function deadProcess(): ProcessRef {
  const r = spawnSync("sh", ["-c", "echo $$; cat /proc/$$/stat"], { encoding: "utf8" });
  const [pidLine, stat] = r.stdout.split("\n");
  const startTime = Number((stat ?? "").slice((stat ?? "").lastIndexOf(")") + 2).split(" ")[19]);
  return { pid: Number(pidLine), startTime };
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe.skipIf(SKIP_REASON !== "")(
  `gvisor provider${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ""}`,
  () => {
    let root: string;
    let baseDir: string;
    let provider: VmProvider;
    const vms: Vm[] = [];

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), "actvm-gvisor-"));
      baseDir = join(root, "state", "vms");
      provider = createGvisorProvider({ baseDir, imagesDir: IMAGES_DIR });
    });
    afterEach(async () => {
      for (const vm of vms.splice(0)) await provider.release(vm);
    });
    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });

    const allocate = async (network = false, p = provider): Promise<Vm> => {
      const vm = await p.allocate({ label: "gv-job", network });
      if (p === provider) vms.push(vm);
      return vm;
    };

    it("probes as available with syscall-filter isolation and names the image", async () => {
      const result = await provider.probe();
      expect(result).toMatchObject({ available: true, isolation: "syscall-filter" });
      expect(result.detail).toContain(image?.id ?? "?");
      expect(result.detail).toMatch(/platform ptrace/);
    });

    it("reports when the image is not built, with the command that builds it", async () => {
      const other = createGvisorProvider({
        baseDir,
        imagesDir: IMAGES_DIR,
        imageName: "no-such-image",
      });
      const result = await other.probe();
      expect(result.available).toBe(false);
      expect(result.fix).toBe("actvm image build");
      await expect(other.allocate({ label: "x", network: false })).rejects.toMatchObject({
        code: "SANDBOX_UNAVAILABLE",
      });
      expect(existsSync(baseDir) ? readdirSync(baseDir) : []).toEqual([]);
    });

    it("runs the image's Node 18 agent as runner at the GitHub-like guest paths", async () => {
      const vm = await allocate();
      expect(vm.backend).toBe("gvisor");
      expect(vm.paths).toEqual(BWRAP_GUEST_PATHS);
      const info = await vm.agent().ping();
      expect(info.node).toMatch(/^v18\./);
      // The host runs Node 20: a v18 answer proves the agent runs on the image's Node.
      expect(process.version).not.toMatch(/^v18\./);
      const r = await sh(vm, "pwd; hostname; id -u; echo $HOME; dmesg 2>/dev/null | head -1");
      const lines = r.out.trim().split("\n");
      expect(lines.slice(0, 4)).toEqual([
        "/home/runner/work/workspace",
        "actvm",
        "1001",
        "/home/runner",
      ]);
    });

    it("runs under gVisor's kernel, not the host's", async () => {
      const vm = await allocate();
      const r = await sh(vm, "cat /proc/version");
      expect(r.out).not.toBe(readFileSync("/proc/version", "utf8"));
      const init = await sh(vm, "tr '\\0' ' ' < /proc/1/cmdline");
      // The agent is the container's first process: nothing of the host's process tree shows.
      expect(init.out).toMatch(/node .*agent\.cjs/);
    });

    it("streams stdout and stderr apart and reports exit codes", async () => {
      const vm = await allocate();
      const r = await sh(vm, "echo to-out; echo to-err >&2; exit 7");
      expect(r).toEqual({ code: 7, out: "to-out\n", err: "to-err\n" });
      expect((await sh(vm, "true")).code).toBe(0);
      expect((await sh(vm, "no-such-command-here")).code).toBe(127);
    });

    it("cannot see host files outside the image", async () => {
      const marker = `actvm-gvisor-marker-${process.pid}-${Date.now()}`;
      const hostFiles = [join("/root", marker), join("/tmp", marker), join(root, marker)];
      for (const f of hostFiles) writeFileSync(f, "secret\n");
      try {
        const vm = await allocate();
        const r = await sh(
          vm,
          `for f in ${hostFiles.join(" ")} ${root}; do test -e "$f" && echo "visible $f"; done; echo end`,
        );
        expect(r.out).toBe("end\n");
      } finally {
        for (const f of hostFiles) rmSync(f, { force: true });
      }
    });

    it("lands work-directory writes in the VM's host tree, owned by the guest user", async () => {
      const vm = await allocate();
      const r = await sh(
        vm,
        [
          "echo ws > $PWD/f",
          "echo tmp > /home/runner/work/_temp/f",
          "echo home > /home/runner/f",
          "echo tool > /home/runner/work/_tool/f",
          "echo act > /home/runner/work/_actions/f",
          "touch /etc/actvm-escape 2>/dev/null && echo etc-writable",
          "echo done",
        ].join("; "),
      );
      expect(r.out.trim()).toBe("done");
      const tree = join(baseDir, vm.id);
      expect(readFileSync(join(tree, "workspace", "f"), "utf8")).toBe("ws\n");
      expect(readFileSync(join(tree, "temp", "f"), "utf8")).toBe("tmp\n");
      expect(readFileSync(join(tree, "home", "f"), "utf8")).toBe("home\n");
      expect(readFileSync(join(tree, "tool-cache", "f"), "utf8")).toBe("tool\n");
      expect(readFileSync(join(tree, "actions", "f"), "utf8")).toBe("act\n");
      const owner = spawnSync("stat", ["-c", "%u", join(tree, "workspace", "f")], {
        encoding: "utf8",
      });
      expect(owner.stdout.trim()).toBe("1001");
    });

    it("keeps a root job's writes to / out of the image and out of the next sandbox", async () => {
      const asRoot = createGvisorProvider({
        baseDir,
        imagesDir: IMAGES_DIR,
        user: { uid: 0, gid: 0 },
      });
      const name = `actvm-overlay-${process.pid}-${Date.now()}`;
      const first = await asRoot.allocate({ label: "overlay-1", network: false });
      try {
        const w = await sh(
          first,
          `id -u; echo x > /etc/${name} && cat /etc/${name}; rm /usr/bin/env && echo removed`,
        );
        expect(w.out).toBe("0\nx\nremoved\n");
      } finally {
        await asRoot.release(first);
      }
      expect(existsSync(join(image?.rootfsDir ?? "/nonexistent", "etc", name))).toBe(false);
      expect(existsSync(join(image?.rootfsDir ?? "/nonexistent", "usr", "bin", "env"))).toBe(true);
      const second = await asRoot.allocate({ label: "overlay-2", network: false });
      try {
        const r = await sh(
          second,
          `test -e /etc/${name} && echo leaked; test -x /usr/bin/env && echo env-ok`,
        );
        expect(r.out).toBe("env-ok\n");
      } finally {
        await asRoot.release(second);
      }
    });

    it("has only the loopback interface without network", async () => {
      const vm = await allocate(false);
      const r = await sh(vm, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(r.out.trim()).toBe("lo");
    });

    it("gives a networked job the host's interfaces", async () => {
      const hostIfaces = readFileSync("/proc/net/dev", "utf8")
        .split("\n")
        .slice(2)
        .map((l) => l.split(":")[0]?.trim())
        .filter((n): n is string => !!n)
        .sort();
      const vm = await allocate(true);
      const r = await sh(vm, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(r.out.trim().split("\n").sort()).toEqual(hostIfaces);
    });

    it("moves directory trees in and out with putTar and getTar", async () => {
      const src = join(root, "tar-src");
      mkdirSync(join(src, "pkg", "sub"), { recursive: true });
      writeFileSync(join(src, "pkg", "a.txt"), "alpha\n");
      writeFileSync(join(src, "pkg", "sub", "b.bin"), Buffer.from([0, 1, 2, 255]));
      const tar = spawnSync("tar", ["-C", src, "-cf", "-", "pkg"], { maxBuffer: 1 << 24 });
      expect(tar.status).toBe(0);
      const vm = await allocate();
      const dest = `${vm.paths.workspace}/in`;
      await vm.agent().putTar(dest, tar.stdout);
      const r = await sh(vm, `cat ${dest}/pkg/a.txt; od -An -tx1 ${dest}/pkg/sub/b.bin`);
      expect(r.out.replace(/\s+/g, " ").trim()).toBe("alpha 00 01 02 ff");

      await sh(vm, `mkdir -p ${dest}/pkg/made && echo guest > ${dest}/pkg/made/g.txt`);
      const back = await collect(vm.agent().getTar(`${dest}/pkg`));
      const out = join(root, "tar-out");
      mkdirSync(out);
      const x = spawnSync("tar", ["-C", out, "-xf", "-"], { input: back });
      expect(x.status).toBe(0);
      expect(readFileSync(join(out, "pkg", "a.txt"), "utf8")).toBe("alpha\n");
      expect(readFileSync(join(out, "pkg", "made", "g.txt"), "utf8")).toBe("guest\n");
      expect([...readFileSync(join(out, "pkg", "sub", "b.bin"))]).toEqual([0, 1, 2, 255]);
    });

    it("removes the VM tree and leaves no runsc process on release, twice over", async () => {
      const vm = await provider.allocate({ label: "gv-release", network: false });
      await sh(vm, "setsid sleep 600 >/dev/null 2>&1 < /dev/null & echo started");
      expect(hostPidsWithCmdline(vm.id).length).toBeGreaterThan(0);
      await provider.release(vm);
      expect(hostPidsWithCmdline(vm.id)).toEqual([]);
      expect(existsSync(join(baseDir, vm.id))).toBe(false);
      await provider.release(vm);
    });

    it("records the sandbox and gofer so a sweep cleans up after a crashed actvm", async () => {
      const vm = await provider.allocate({ label: "gv-crash", network: false });
      const dir = join(baseDir, vm.id);
      expect(existsSync(join(dir, GVISOR_VM_LAYOUT.state))).toBe(true);
      const record = await readOwnerRecord(dir);
      // runsc run, plus the sandbox and gofer it started.
      expect(record?.processes.length).toBeGreaterThanOrEqual(3);
      expect(hostPidsWithCmdline(vm.id).length).toBeGreaterThanOrEqual(3);
      // Pretend the owner died: its pid is gone and the VM was never released.
      const orphaned = { ...record, owner: deadProcess() };
      writeFileSync(join(dir, OWNER_FILE), JSON.stringify(orphaned));
      const report = await sweepLeftovers(baseDir);
      expect(report.removed).toEqual([dir]);
      expect(hostPidsWithCmdline(vm.id)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      // The provider still holds the VM; releasing it now must be harmless.
      await provider.release(vm);
      expect(processRef(process.pid).pid).toBe(process.pid);
    });
  },
);

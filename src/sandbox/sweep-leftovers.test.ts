import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBwrapProvider } from "./bwrap/bwrap-provider.ts";
import { processRef, type ProcessRef } from "./process-control.ts";
import { sweepLeftovers } from "./sweep-leftovers.ts";
import { OWNER_FILE, type OwnerRecord } from "./vm-dir.ts";

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** A pid that certainly belongs to no process any more: a child that has exited and been reaped. */
function deadProcess(): ProcessRef {
  const r = spawnSync("sh", ["-c", "echo $$; cat /proc/$$/stat"], { encoding: "utf8" });
  const [pidLine, stat] = r.stdout.split("\n");
  const startTime = Number((stat ?? "").slice((stat ?? "").lastIndexOf(")") + 2).split(" ")[19]);
  return { pid: Number(pidLine), startTime };
}

describe("sweepLeftovers", () => {
  let baseDir: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    baseDir = mkdtempSync(join(tmpdir(), "actvm-sweep-"));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.pid && alive(c.pid)) c.kill("SIGKILL");
    rmSync(baseDir, { recursive: true, force: true });
  });

  const startSleeper = (cwd = baseDir): ChildProcess => {
    const child = spawn("sleep", ["600"], { cwd, detached: true, stdio: "ignore" });
    child.unref();
    children.push(child);
    return child;
  };

  const vmDir = (name: string, owner: ProcessRef, processes: ProcessRef[]): string => {
    const dir = join(baseDir, name);
    mkdirSync(join(dir, "workspace"), { recursive: true });
    const record: OwnerRecord = {
      version: 1,
      vmId: name,
      backend: "host",
      label: "job",
      owner,
      createdAt: Date.now(),
      processes,
    };
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify(record));
    return dir;
  };

  it("removes the tree of a crashed owner and kills the agent it recorded", async () => {
    const agent = startSleeper();
    const exited = new Promise((r) => agent.once("exit", r));
    const dir = vmDir("crashed-1", deadProcess(), [processRef(agent.pid as number)]);
    const report = await sweepLeftovers(baseDir);
    expect(report.removed).toEqual([dir]);
    expect(report.killed).toContain(agent.pid);
    expect(existsSync(dir)).toBe(false);
    await exited;
    expect(agent.signalCode).toBe("SIGKILL");
  });

  it("kills unrecorded processes still working inside an orphaned tree", async () => {
    const dir = vmDir("crashed-2", deadProcess(), []);
    const stray = startSleeper(join(dir, "workspace"));
    const exited = new Promise((r) => stray.once("exit", r));
    const report = await sweepLeftovers(baseDir);
    expect(report.killed).toContain(stray.pid);
    await exited;
    expect(existsSync(dir)).toBe(false);
  });

  it("keeps the tree of an owner that is still running", async () => {
    const agent = startSleeper();
    const dir = vmDir("mine", processRef(process.pid), [processRef(agent.pid as number)]);
    const report = await sweepLeftovers(baseDir);
    expect(report).toEqual({ removed: [], killed: [], kept: [dir] });
    expect(alive(agent.pid as number)).toBe(true);
  });

  it("does not kill a process that merely reuses a recorded pid", async () => {
    const innocent = startSleeper();
    const recycled: ProcessRef = { pid: innocent.pid as number, startTime: 1 };
    const dir = vmDir("reused", deadProcess(), [recycled]);
    const report = await sweepLeftovers(baseDir);
    expect(report.removed).toEqual([dir]);
    expect(report.killed).toEqual([]);
    expect(alive(innocent.pid as number)).toBe(true);
  });

  it("removes an ownerless tree only once it is older than minAgeMs", async () => {
    const fresh = join(baseDir, "fresh");
    const old = join(baseDir, "old");
    mkdirSync(fresh);
    mkdirSync(old);
    const past = new Date(Date.now() - 120_000);
    utimesSync(old, past, past);
    const report = await sweepLeftovers(baseDir, { minAgeMs: 60_000 });
    expect(report.removed).toEqual([old]);
    expect(report.kept).toEqual([fresh]);
  });

  it("reports nothing for a base directory that does not exist", async () => {
    expect(await sweepLeftovers(join(baseDir, "missing"))).toEqual({
      removed: [],
      killed: [],
      kept: [],
    });
  });
});

const bwrapWorks = (await createBwrapProvider({ baseDir: "/nonexistent" }).probe()).available;
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

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

describe("sweepLeftovers after a real actvm process crashed", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "actvm-crash-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it.each(["host", ...(bwrapWorks ? ["bwrap"] : [])])(
    "cleans up after an owner killed with SIGKILL (%s)",
    async (backend) => {
      const baseDir = join(root, "state", "vms");
      const marker = `${400 + Math.floor(Math.random() * 500)}.${Date.now() % 1_000_000}`;
      const script = join(root, "owner.mts");
      writeFileSync(
        script,
        `import { createProvider } from ${JSON.stringify(join(repoRoot, "src/sandbox/select-backend.ts"))};
const provider = createProvider(${JSON.stringify(backend)}, { baseDir: ${JSON.stringify(baseDir)} });
const vm = await provider.allocate({ label: "crash", network: false });
const h = vm.agent().exec({ argv: ["sh", "-c", "env -u ACTVM_TRACKING_ID setsid nohup sleep ${marker} >/dev/null 2>&1 </dev/null &"], cwd: vm.paths.workspace, env: { PATH: "/usr/bin:/bin" } });
await h.result;
process.stdout.write(JSON.stringify({ id: vm.id }) + "\\n");
setInterval(() => {}, 1000);
`,
      );
      const owner = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise((r) => owner.once("exit", r));
      const line = await new Promise<string>((resolve, reject) => {
        let buf = "";
        owner.stdout.on("data", (c: Buffer) => {
          buf += c.toString();
          if (buf.includes("\n")) resolve(buf.split("\n")[0] as string);
        });
        owner.once("exit", (code) => reject(new Error(`owner exited early with ${code}`)));
      });
      const { id } = JSON.parse(line) as { id: string };
      owner.kill("SIGKILL");
      await exited;
      const dir = join(baseDir, id);
      expect(existsSync(dir)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      const daemons = hostPidsWithCmdline(`sleep ${marker}`);
      // bwrap's sandbox dies with its owner; on the host the job's daemon outlives it.
      if (backend === "host") expect(daemons.length).toBeGreaterThan(0);
      else expect(daemons).toEqual([]);

      const report = await sweepLeftovers(baseDir);
      expect(report.removed).toEqual([dir]);
      for (const pid of daemons) expect(report.killed).toContain(pid);
      expect(existsSync(dir)).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
      expect(hostPidsWithCmdline(`sleep ${marker}`)).toEqual([]);
    },
  );
});

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildProcess,
  isBuildProcessAlive,
  mountsUnder,
  processesInside,
  removeBuildDir,
} from "./build-dir.ts";

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    for (const m of mountsUnder(d)) execFileSync("umount", ["-l", m]);
    rmSync(d, { recursive: true, force: true });
  }
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-builddir-"));
  dirs.push(d);
  return d;
}

describe("mountsUnder", () => {
  it("lists mounts at or below a directory, deepest first, decoding escaped spaces", () => {
    const text = [
      "proc /proc proc rw 0 0",
      "proc /b/.tmp-1/rootfs/proc proc rw 0 0",
      "sysfs /b/.tmp-1/rootfs/sys sysfs rw 0 0",
      "devpts /b/.tmp-1/rootfs/dev/pts devpts rw 0 0",
      "tmpfs /b/.tmp-1\\040x tmpfs rw 0 0",
      "tmpfs /b/.tmp-10 tmpfs rw 0 0",
      "",
    ].join("\n");
    expect(mountsUnder("/b/.tmp-1", text)).toEqual([
      "/b/.tmp-1/rootfs/dev/pts",
      "/b/.tmp-1/rootfs/proc",
      "/b/.tmp-1/rootfs/sys",
    ]);
    expect(mountsUnder("/b/.tmp-1 x", text)).toEqual(["/b/.tmp-1 x"]);
  });
});

describe("build processes", () => {
  it("tells a live process from a gone one and from a recycled pid", async () => {
    const child = spawn("sleep", ["30"]);
    const ref = buildProcess(child.pid as number);
    expect(isBuildProcessAlive(ref)).toBe(true);
    expect(isBuildProcessAlive({ ...ref, startTime: (ref.startTime ?? 0) + 1 })).toBe(false);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(isBuildProcessAlive(ref)).toBe(false);
  });

  it("finds processes whose working directory is inside a tree", async () => {
    const d = tmp();
    const child = spawn("sleep", ["30"], { cwd: d });
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(processesInside(d)).toContain(child.pid);
      expect(processesInside(path.join(d, "other"))).not.toContain(child.pid);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("removeBuildDir", () => {
  it.skipIf(!isRoot)(
    "unmounts what is mounted inside, kills what runs inside, then removes the tree",
    async () => {
      const d = tmp();
      const build = path.join(d, ".tmp-x");
      const proc = path.join(build, "rootfs", "proc");
      const inner = path.join(build, "rootfs", "tmp");
      mkdirSync(proc, { recursive: true });
      mkdirSync(inner, { recursive: true });
      execFileSync("mount", ["-t", "proc", "proc", proc]);
      execFileSync("mount", ["-t", "tmpfs", "tmpfs", inner]);
      writeFileSync(path.join(inner, "f"), "x");
      const child = spawn("sleep", ["30"], { cwd: inner });
      const exited = new Promise((r) => child.once("exit", r));
      await new Promise((r) => setTimeout(r, 50));

      await removeBuildDir(build);

      await exited;
      expect(existsSync(build)).toBe(false);
      expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(build);
      // The host's /proc was never descended into.
      expect(existsSync("/proc/self/stat")).toBe(true);
    },
  );

  it("succeeds when the directory is already gone", async () => {
    await expect(removeBuildDir(path.join(tmp(), "missing"))).resolves.toBeUndefined();
  });
});

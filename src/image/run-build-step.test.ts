import { describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { isBuildProcessAlive } from "./build-dir.ts";
import { runBuildStep } from "./run-build-step.ts";

describe("runBuildStep", () => {
  it("streams every line of stdout and stderr, including carriage-return progress", async () => {
    const seen: string[] = [];
    const lines = await runBuildStep({
      step: "demo",
      command: "sh",
      args: ["-c", "printf 'a\\n'; printf 'b\\rc\\n' >&2; printf 'no newline'"],
      onLine: (l) => seen.push(l),
    });
    expect(seen.sort()).toEqual(["a", "b", "c", "no newline"]);
    expect(lines.sort()).toEqual(seen);
  });

  it("runs with a fixed locale and sbin on PATH", async () => {
    const lines = await runBuildStep({
      step: "env",
      command: "sh",
      args: ["-c", 'echo "$LC_ALL $DEBIAN_FRONTEND $PATH"'],
    });
    expect(lines[0]).toMatch(/^C noninteractive .*\/usr\/sbin/);
  });

  it("names the step and quotes the last lines when the command fails", async () => {
    const err = await runBuildStep({
      step: "debootstrap",
      command: "sh",
      args: ["-c", "for i in $(seq 1 30); do echo line $i; done; echo 'E: broken' >&2; exit 3"],
      tailLines: 5,
    }).catch((e: unknown) => e);
    expect(isActvmError(err, "IMAGE_BUILD")).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toMatch(/debootstrap exited with 3/);
    expect(msg).toContain("E: broken");
    expect(msg).toContain("line 30");
    expect(msg).not.toContain("line 25\n");
  });

  it("says a missing tool is not installed", async () => {
    const err = await runBuildStep({
      step: "mkfs.ext4",
      command: "/nonexistent/mkfs.ext4",
      args: [],
    }).catch((e: unknown) => e);
    expect(isActvmError(err, "IMAGE_BUILD")).toBe(true);
    expect((err as Error).message).toMatch(/not installed/);
  });

  it("kills the whole process group on abort and rejects with CANCELLED", async () => {
    const ac = new AbortController();
    let grandchild = 0;
    const p = runBuildStep({
      step: "slow",
      command: "sh",
      // The background sleep ignores SIGTERM, so only the group kill after the grace ends it.
      args: ["-c", "trap '' TERM; sleep 30 & echo $!; wait"],
      signal: ac.signal,
      killGraceMs: 200,
      onLine: (l) => {
        grandchild = Number(l);
        ac.abort();
      },
    });
    const err = await p.catch((e: unknown) => e);
    expect(isActvmError(err, "CANCELLED")).toBe(true);
    expect(grandchild).toBeGreaterThan(0);
    // Gone or a zombie waiting for init to reap it: either way no longer running.
    await new Promise((r) => setTimeout(r, 100));
    expect(isBuildProcessAlive({ pid: grandchild, startTime: null })).toBe(false);
  });

  it("does not start when the signal has already aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await runBuildStep({
      step: "x",
      command: "sh",
      args: ["-c", "exit 0"],
      signal: ac.signal,
    }).catch((e: unknown) => e);
    expect(isActvmError(err, "CANCELLED")).toBe(true);
  });
});

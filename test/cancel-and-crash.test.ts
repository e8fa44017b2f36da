import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendsUnderTest, cleanup, makeHome, makeRepo, runCli, spawnCli } from "./support/cli.ts";

// Cancellation and crashes must leave no stray processes or sandbox directories behind.
const backends = backendsUnderTest();

/** Pids of live processes whose command line contains `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replace(/\0/g, " ");
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // Zombies are already dead; only their parent can reap them.
      if (cmd.includes(marker) && !/\) Z /.test(stat)) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe.each(backends)("cancellation and crashes on %s", (backend) => {
  let home: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    home = await makeHome();
    dirs.push(home);
  });
  afterAll(async () => cleanup(...dirs));

  const start = (repo: string) =>
    spawnCli(["run", "--backend", backend, "--plain"], {
      cwd: repo,
      home,
      env: { ACTVM_KILL_GRACE_MS: "600" },
    });

  it("on Ctrl-C cancels the running step, still runs always() steps, and leaves no processes", async () => {
    const marker = `actvm-cancel-${backend}-${Date.now()}`;
    const repo = await makeRepo({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          (exec -a ${marker} sleep 300) &
          echo started-long-step
          sleep 300
      - if: always()
        run: echo "always-after-cancel status=\${{ job.status }}"
      - run: echo must-not-run
`,
    });
    dirs.push(repo);
    const run = start(repo);
    expect(await waitFor(() => run.output().includes("started-long-step"), 30_000)).toBe(true);
    run.child.kill("SIGINT");
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toContain("always-after-cancel status=cancelled");
    expect(run.output()).not.toContain("must-not-run");
    expect(await waitFor(async () => (await processesWith(marker)).length === 0, 10_000)).toBe(
      true,
    );
    const sandboxes = path.join(home, ".actvm", "sandboxes");
    expect(existsSync(sandboxes) ? await readdir(sandboxes) : []).toEqual([]);
  }, 60_000);

  it("after kill -9 of actvm, no job process survives and the next start cleans up and marks the run", async () => {
    const marker = `actvm-crash-${backend}-${Date.now()}`;
    const repo = await makeRepo({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          (exec -a ${marker} sleep 300) &
          echo crash-step-started
          sleep 300
`,
    });
    dirs.push(repo);
    const run = start(repo);
    expect(await waitFor(() => run.output().includes("crash-step-started"), 30_000)).toBe(true);
    run.child.kill("SIGKILL");
    await run.exited;
    // The agent notices its channel closed and kills what the job started.
    expect(await waitFor(async () => (await processesWith(marker)).length === 0, 15_000)).toBe(
      true,
    );
    const runs = await runCli(["runs", "--json"], { cwd: repo, home });
    const list = JSON.parse(runs.stdout) as Array<{
      result: string;
      error: string | null;
      status: string;
    }>;
    expect(list[0]?.status).toBe("completed");
    expect(list[0]?.result).toBe("cancelled");
    // The next run sweeps the crashed run's sandbox directory.
    const next = await makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo ok}]\n",
    });
    dirs.push(next);
    const again = await runCli(["run", "--backend", backend, "--plain"], { cwd: next, home });
    expect(again.code).toBe(0);
    const sandboxes = path.join(home, ".actvm", "sandboxes");
    expect(await readdir(sandboxes)).toEqual([]);
  }, 90_000);
});

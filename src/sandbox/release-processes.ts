import { descendantsOf, processesUsingDir, signalProcess, waitForExit } from "./process-control.ts";

/**
 * SIGKILLs the given pids plus every process whose working directory or executable lies inside
 * `dir` (repeated until none is left, since a dying shell may have just forked), then waits up
 * to `timeoutMs` for them to be gone. Returns the pids it killed.
 */
export async function killProcessesOf(
  pids: number[],
  dir: string,
  timeoutMs: number,
): Promise<number[]> {
  const killed = new Set<number>();
  for (let round = 0; round < 5; round++) {
    const targets = new Set<number>();
    for (const pid of [...pids, ...processesUsingDir(dir)]) {
      if (pid === process.pid || pid <= 1) continue;
      targets.add(pid);
      for (const d of descendantsOf(pid)) targets.add(d);
    }
    const fresh = [...targets];
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      try {
        signalProcess(pid, "SIGKILL");
        killed.add(pid);
      } catch {
        // EPERM: another user's process; it cannot be ours to clean up, so leave it.
      }
    }
    await waitForExit(fresh, timeoutMs);
    pids = [];
  }
  return [...killed];
}

import { readdirSync, readFileSync } from "node:fs";

/** Name of the variable that marks every process a command starts, for the tree kill. */
export const TRACKING_VARIABLE = "ACTVM_TRACKING_ID";

function procPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    // No procfs (not Linux): only the process group can be reached.
    return [];
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name may contain spaces and parentheses; fields resume after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

function carriesTrackingId(pid: number, entry: Buffer): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`);
    // Entries are NUL-separated; match a whole entry, at the start or after a NUL.
    if (environ.subarray(0, entry.length).equals(entry)) return true;
    return environ.includes(Buffer.concat([Buffer.from([0]), entry]));
  } catch {
    return false;
  }
}

/**
 * Every live process that belongs to a command: descendants of `rootPid` (by parent links) and
 * any process whose initial environment carries the tracking id, which finds those that
 * daemonised away. A process that rewrote its environment escapes this; the sandbox's own
 * teardown is the backstop.
 */
export function findCommandProcesses(rootPid: number | undefined, trackingId: string): number[] {
  const pids = procPids();
  const entry = Buffer.from(`${TRACKING_VARIABLE}=${trackingId}\0`);
  const children = new Map<number, number[]>();
  const found = new Set<number>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid !== undefined) {
      const list = children.get(ppid) ?? [];
      list.push(pid);
      children.set(ppid, list);
    }
    if (carriesTrackingId(pid, entry)) found.add(pid);
  }
  if (rootPid !== undefined) {
    const queue = [rootPid];
    while (queue.length > 0) {
      const pid = queue.pop() as number;
      for (const child of children.get(pid) ?? []) {
        if (!found.has(child)) queue.push(child);
        found.add(child);
      }
    }
  }
  found.delete(process.pid);
  return [...found];
}

/** Sends `signal` to a pid or (negative) process group, ignoring ones that are already gone. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILLs a command's process group, its descendants and every process carrying its tracking
 * id, repeating a few rounds because a fork bomb can spawn between scan and kill.
 */
export function killCommandTree(pgid: number | undefined, trackingId: string): void {
  for (let round = 0; round < 5; round++) {
    if (pgid !== undefined) signalQuietly(-pgid, "SIGKILL");
    const pids = findCommandProcesses(pgid, trackingId);
    if (pids.length === 0) return;
    for (const pid of pids) signalQuietly(pid, "SIGKILL");
  }
}

function trackingIdOf(pid: number): string | undefined {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const prefix = `${TRACKING_VARIABLE}=`;
  for (const entry of environ.toString("latin1").split("\0")) {
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/**
 * SIGKILLs every process carrying one of `trackingIds`. Used for commands that already ended,
 * whose process group ids may have been reused, so only the tracking id is trusted.
 */
export function killTracked(trackingIds: ReadonlySet<string>): void {
  if (trackingIds.size === 0) return;
  for (let round = 0; round < 5; round++) {
    const pids = procPids().filter((pid) => {
      const id = trackingIdOf(pid);
      return id !== undefined && trackingIds.has(id);
    });
    if (pids.length === 0) return;
    for (const pid of pids) signalQuietly(pid, "SIGKILL");
  }
}

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Linux process helpers built on /proc. They identify a process by pid *and* start time, so a
 * recycled pid is never mistaken for the process that was recorded (and never killed).
 */

/** A process as recorded in an owner file: the start time guards against pid reuse. */
export interface ProcessRef {
  pid: number;
  /** Kernel start time in clock ticks since boot (`/proc/<pid>/stat` field 22); null if unknown. */
  startTime: number | null;
}

interface StatFields {
  state: string;
  ppid: number;
  pgrp: number;
  startTime: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name may itself contain spaces and parentheses; fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return null;
  return { state, ppid, pgrp, startTime };
}

/** True when /proc is available, i.e. the helpers below can see other processes. */
export function hasProcFs(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** Describes a running process for an owner file; `startTime` is null where /proc is missing. */
export function processRef(pid: number): ProcessRef {
  return { pid, startTime: readStat(pid)?.startTime ?? null };
}

/**
 * True when the recorded process still runs (zombies count as gone). With a start time, a
 * different process that happens to reuse the pid is reported as not alive.
 */
export function isProcessAlive(ref: ProcessRef): boolean {
  const stat = readStat(ref.pid);
  if (stat) {
    if (stat.state === "Z" || stat.state === "X") return false;
    return ref.startTime === null || stat.startTime === ref.startTime;
  }
  if (hasProcFs()) return false;
  try {
    process.kill(ref.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** Pids of every live descendant of `pid` (children, grandchildren, ...), found via /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const stat = readStat(p);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(p);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of children.get(next) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * Pids of processes whose working directory or executable lies inside `dir` (the caller's own
 * process excluded). This finds daemons a job left behind after they re-parented to init.
 */
export function processesUsingDir(dir: string): number[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const inside = (p: string): boolean => p === dir || p.startsWith(prefix);
  const out: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    for (const link of ["cwd", "exe"]) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/${link}`);
      } catch {
        continue;
      }
      if (inside(target.replace(/ \(deleted\)$/, ""))) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Sends `signal` to a pid, ignoring processes that are already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ESRCH") throw err;
  }
}

/** Sends `signal` to a whole process group, ignoring a group that no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  signalProcess(-pgid, signal);
}

/** SIGKILLs a recorded process (and its group when it leads one) unless its pid was recycled. */
export function killRecorded(ref: ProcessRef): boolean {
  if (!isProcessAlive(ref)) return false;
  const stat = readStat(ref.pid);
  if (stat && stat.pgrp === ref.pid) signalGroup(ref.pid, "SIGKILL");
  signalProcess(ref.pid, "SIGKILL");
  return true;
}

/** Resolves once none of `pids` is alive (zombies count as gone), or after `timeoutMs`. */
export async function waitForExit(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((pid) => isProcessAlive({ pid, startTime: null }));
    if (alive.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

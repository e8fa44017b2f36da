import { execFile } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { ActvmError } from "../shared/errors.ts";

const run = promisify(execFile);

/** Name of the file in a build directory that says which process is building in it. */
export const BUILD_OWNER_FILE = "owner.json";

/** A process by pid and kernel start time, so a recycled pid is never taken for it. */
export interface BuildProcess {
  pid: number;
  startTime: number | null;
}

/** Contents of a build directory's `owner.json`. */
export interface BuildOwner {
  owner: BuildProcess;
  /** Process groups of the steps started so far (each step leads its own group). */
  groups: BuildProcess[];
}

function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (rest[0] === "Z" || rest[0] === "X") return null;
    const t = Number(rest[19]);
    return Number.isFinite(t) ? t : null;
  } catch {
    return null;
  }
}

/** Describes a live process for an owner file. */
export function buildProcess(pid: number): BuildProcess {
  return { pid, startTime: startTimeOf(pid) };
}

/** True when the recorded process still runs and its pid was not recycled. */
export function isBuildProcessAlive(p: BuildProcess): boolean {
  const now = startTimeOf(p.pid);
  if (now === null) return false;
  return p.startTime === null || p.startTime === now;
}

/** Writes `owner.json` atomically. */
export async function writeBuildOwner(dir: string, owner: BuildOwner): Promise<void> {
  const tmp = path.join(dir, `.${BUILD_OWNER_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  await rename(tmp, path.join(dir, BUILD_OWNER_FILE));
}

/** Reads `owner.json`; undefined when missing or unreadable. */
export async function readBuildOwner(dir: string): Promise<BuildOwner | undefined> {
  try {
    const v = JSON.parse(await readFile(path.join(dir, BUILD_OWNER_FILE), "utf8")) as BuildOwner;
    if (typeof v?.owner?.pid !== "number" || !Array.isArray(v.groups)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** Undoes the octal escapes /proc/self/mounts uses for space, tab, newline and backslash. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string, mountsText?: string): string[] {
  const root = path.resolve(dir);
  const prefix = `${root}/`;
  const text = mountsText ?? readFileSync("/proc/self/mounts", "utf8");
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const target = line.split(" ")[1];
    if (target === undefined) continue;
    const p = unescapeMountPath(target);
    if (p === root || p.startsWith(prefix)) out.add(p);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything mounted at or below `dir` (debootstrap mounts /proc and /sys in its
 * target and leaves them when it is killed). Falls back to a lazy unmount for busy mounts.
 */
export async function unmountUnder(dir: string): Promise<void> {
  // A mount can hide another one at the same place; repeat until nothing is left.
  for (let round = 0; round < 8; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      try {
        await run("umount", [m]);
      } catch {
        await run("umount", ["-l", m]).catch(() => undefined);
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0)
    throw new ActvmError("IMAGE_BUILD", `could not unmount ${left.join(", ")}`, {
      subsystem: "image",
      hint: `unmount them by hand (umount -l PATH), then remove ${dir}`,
    });
}

/**
 * Pids of processes that run inside `dir`: their root (a chroot), working directory or
 * executable lies there. Finds maintainer-script daemons that outlived a killed build.
 */
export function processesInside(dir: string): number[] {
  const root = path.resolve(dir);
  const inside = (p: string): boolean => p === root || p.startsWith(`${root}/`);
  const out: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    for (const link of ["root", "cwd", "exe"]) {
      try {
        if (inside(readlinkSync(`/proc/${pid}/${link}`).replace(/ \(deleted\)$/, ""))) {
          out.push(pid);
          break;
        }
      } catch {
        // The process exited, or is not ours to inspect.
      }
    }
  }
  return out;
}

/**
 * Removes a build or image directory safely: kills what still runs inside it, unmounts
 * anything under it, then deletes it without crossing into other file systems, so a mount
 * that could not be removed is never descended into.
 */
export async function removeBuildDir(dir: string): Promise<void> {
  // /proc reports mount points and process paths with symlinks resolved; compare like with like.
  dir = await realpath(dir).catch(() => path.resolve(dir));
  for (const pid of processesInside(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await unmountUnder(dir);
  try {
    await run("rm", ["-rf", "--one-file-system", "--", dir]);
  } catch (err) {
    // Fall back to Node where GNU rm is missing; the mounts are gone by now.
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      await rm(dir, { recursive: true, force: true });
    else
      throw new ActvmError("IMAGE_BUILD", `could not remove ${dir}`, {
        subsystem: "image",
        cause: err,
      });
  }
}

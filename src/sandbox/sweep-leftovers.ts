import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { descendantsOf, isProcessAlive, killRecorded } from "./process-control.ts";
import { killProcessesOf } from "./release-processes.ts";
import { readOwnerRecord, removeTree } from "./vm-dir.ts";

/** What {@link sweepLeftovers} did. */
export interface SweepReport {
  /** VM directories removed (absolute paths). */
  removed: string[];
  /** Host pids killed. */
  killed: number[];
  /** VM directories left alone because their owner still runs (or they are too new to judge). */
  kept: string[];
}

/** Options of {@link sweepLeftovers}. */
export interface SweepOptions {
  /**
   * A directory without a readable `owner.json` is only removed when it is older than this,
   * since another actvm process may be creating it right now. Default 60 s.
   */
  minAgeMs?: number;
  /** Grace for killed processes to exit. Default 2 s. */
  killTimeoutMs?: number;
}

/**
 * Removes VM directories under `baseDir` whose owning actvm process is gone (it crashed or was
 * killed), after killing the sandbox processes they recorded and any process still working
 * inside them. A recorded pid that now belongs to another process is left alone.
 *
 * @example
 * const { removed } = await sweepLeftovers("/var/lib/actvm/vms");
 */
export async function sweepLeftovers(
  baseDir: string,
  options: SweepOptions = {},
): Promise<SweepReport> {
  const minAgeMs = options.minAgeMs ?? 60_000;
  const killTimeoutMs = options.killTimeoutMs ?? 2_000;
  const report: SweepReport = { removed: [], killed: [], kept: [] };
  let entries;
  try {
    entries = await readdir(baseDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return report;
    throw err;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(baseDir, entry.name);
    const record = await readOwnerRecord(dir);
    if (record) {
      if (isProcessAlive(record.owner)) {
        report.kept.push(dir);
        continue;
      }
      const alive = record.processes.filter(isProcessAlive);
      const family = alive.flatMap((ref) => [ref.pid, ...descendantsOf(ref.pid)]);
      for (const ref of alive) if (killRecorded(ref)) report.killed.push(ref.pid);
      const more = await killProcessesOf(family, dir, killTimeoutMs);
      for (const pid of more) if (!report.killed.includes(pid)) report.killed.push(pid);
    } else {
      let age: number;
      try {
        age = Date.now() - (await stat(dir)).mtimeMs;
      } catch {
        continue;
      }
      if (age < minAgeMs) {
        report.kept.push(dir);
        continue;
      }
      report.killed.push(...(await killProcessesOf([], dir, killTimeoutMs)));
    }
    await removeTree(dir);
    report.removed.push(dir);
  }
  return report;
}

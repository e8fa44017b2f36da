import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { isBuildProcessAlive, readBuildOwner, removeBuildDir } from "./build-dir.ts";

/**
 * Removes what interrupted builds and removals left in `imagesDir`: `.tmp-*` build directories
 * whose building process is gone (after killing the steps it started and undoing their mounts),
 * and `.rm-*` directories of half-finished removals. A `.tmp-*` without an owner record is only
 * removed once it is older than `minAgeMs` (default 60 s), since its build may be starting.
 *
 * @example
 * const removed = await sweepImageTemp(imagesDir);
 */
export async function sweepImageTemp(imagesDir: string, minAgeMs = 60_000): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(imagesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(imagesDir, name);
    if (name.startsWith(".tmp-")) {
      const owner = await readBuildOwner(dir);
      if (owner) {
        if (isBuildProcessAlive(owner.owner)) continue;
        for (const group of owner.groups) {
          if (!isBuildProcessAlive(group)) continue;
          try {
            process.kill(-group.pid, "SIGKILL");
          } catch {
            // The group is gone already.
          }
        }
      } else {
        const age = await stat(dir).then(
          (s) => Date.now() - s.mtimeMs,
          () => -1,
        );
        if (age < minAgeMs) continue;
      }
    } else if (!name.startsWith(".rm-")) continue;
    await removeBuildDir(dir);
    removed.push(dir);
  }
  return removed;
}

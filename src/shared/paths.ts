import { mkdir, chmod, stat } from "node:fs/promises";
import path from "node:path";
import { ActvmError } from "./errors.ts";

/** Where actvm keeps its state under its home directory (`ACTVM_HOME`). */
export interface ActvmPaths {
  home: string;
  /** The embedded SQLite run record. */
  db: string;
  /** Per-job sandbox working directories. */
  sandboxes: string;
  /** Fetched action repositories. */
  actions: string;
  /** Caches (images, tool downloads). */
  cache: string;
  /** Built guest images, one directory per image (`<cache>/images/<id>`). */
  images: string;
  /** Daemon logs. */
  logs: string;
}

/**
 * The layout of actvm's home directory; pure, creates nothing (see {@link ensureDirs}).
 *
 * @example
 * actvmPaths("/home/me/.actvm").db; // "/home/me/.actvm/actvm.db"
 */
export function actvmPaths(home: string): ActvmPaths {
  return {
    home,
    db: path.join(home, "actvm.db"),
    sandboxes: path.join(home, "sandboxes"),
    actions: path.join(home, "actions"),
    cache: path.join(home, "cache"),
    images: path.join(home, "cache", "images"),
    logs: path.join(home, "logs"),
  };
}

async function existingKind(p: string): Promise<"dir" | "other" | "none"> {
  try {
    return (await stat(p)).isDirectory() ? "dir" : "other";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw err;
  }
}

/**
 * Creates every directory in `paths` that is missing, readable by the owner only (0700), since
 * they hold logs and checkouts that may contain secrets. Directories that already exist keep
 * their mode: `ACTVM_HOME` may point at a directory the user manages.
 */
export async function ensureDirs(paths: ActvmPaths): Promise<void> {
  for (const dir of [paths.home, paths.sandboxes, paths.actions, paths.cache, paths.logs]) {
    const kind = await existingKind(dir);
    if (kind === "dir") continue;
    if (kind === "other")
      throw new ActvmError("INVALID_CONFIG", `${dir} exists and is not a directory`, {
        subsystem: "shared/paths",
        hint: "move it away or point ACTVM_HOME somewhere else",
      });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered through the umask; make the intent exact.
    await chmod(dir, 0o700);
  }
}

import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";

/** PATH used for the helper programs sandbox drivers run (bwrap, runsc, qemu, ...). */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Finds an executable by path, or by name in {@link SYSTEM_PATH}; null when there is none. */
export async function findExecutable(name: string): Promise<string | null> {
  const candidates = name.includes("/")
    ? [resolve(name)]
    : SYSTEM_PATH.split(":").map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // Not here; try the next directory.
    }
  }
  return null;
}

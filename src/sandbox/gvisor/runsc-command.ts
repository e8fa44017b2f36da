import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";

/** The PATH runsc and its helpers run with; nothing of actvm's own environment is passed on. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Outcome of {@link runRunsc}: never a rejection, so teardown paths can always go on. */
export interface RunscOutcome {
  ok: boolean;
  /** stdout and stderr joined (or the spawn error), trimmed. */
  out: string;
}

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

/** Runs one short runsc command (state, kill, delete, list, a smoke test) with a deadline. */
export function runRunsc(runsc: string, args: string[], timeoutMs: number): Promise<RunscOutcome> {
  return new Promise((done) => {
    execFile(
      runsc,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", env: { PATH: SYSTEM_PATH }, cwd: "/" },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        done({ ok: !err, out: out || (err?.message ?? "") });
      },
    );
  });
}

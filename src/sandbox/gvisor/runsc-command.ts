import { execFile } from "node:child_process";
import { SYSTEM_PATH } from "../find-executable.ts";

/** Outcome of {@link runRunsc}: never a rejection, so teardown paths can always go on. */
export interface RunscOutcome {
  ok: boolean;
  /** stdout and stderr joined (or the spawn error), trimmed. */
  out: string;
}

/** Runs one short runsc command (state, kill, delete, list, a smoke test) with a deadline. */
export function runRunsc(runsc: string, args: string[], timeoutMs: number): Promise<RunscOutcome> {
  return new Promise((done) => {
    execFile(
      runsc,
      args,
      // runsc and its helpers get only a fixed PATH: nothing of actvm's own environment.
      { timeout: timeoutMs, killSignal: "SIGKILL", env: { PATH: SYSTEM_PATH }, cwd: "/" },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        done({ ok: !err, out: out || (err?.message ?? "") });
      },
    );
  });
}

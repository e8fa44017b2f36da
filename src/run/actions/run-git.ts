import { execFile } from "node:child_process";

/** How one git invocation ended. */
export interface GitOutcome {
  ok: boolean;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

// A credential prompt on the terminal would hang a run: answer any prompt with nothing via
// `true` as askpass (GIT_ASKPASS still wins when the user set it).
const NO_PROMPT = ["-c", "core.askPass=true", "-c", "advice.detachedHead=false"];

/**
 * Runs `git <args>` without a shell, killed after `timeoutMs` or when `signal` aborts. Never
 * throws: callers turn the outcome into an error that names the action.
 */
export function runGit(
  args: readonly string[],
  opts: { cwd?: string; timeoutMs: number; signal?: AbortSignal },
): Promise<GitOutcome> {
  return new Promise((resolve) => {
    execFile(
      "git",
      [...NO_PROMPT, ...args],
      {
        cwd: opts.cwd,
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
        timeout: Math.max(1, opts.timeoutMs),
        killSignal: "SIGKILL",
        signal: opts.signal,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        const aborted = e?.name === "AbortError" || opts.signal?.aborted === true;
        resolve({
          ok: e === null,
          stdout,
          stderr: stderr || (e ? e.message : ""),
          timedOut: e !== null && !aborted && e.killed === true,
          aborted,
        });
      },
    );
  });
}

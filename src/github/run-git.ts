import { execFile } from "node:child_process";

/** What one git invocation produced. */
export interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git <args>` in `cwd` without a shell and never throws for a non-zero exit, because
 * most callers probe (is there a HEAD? an origin?) and treat failure as an answer.
 */
export function runGit(cwd: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      "git",
      [...args],
      { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000, windowsHide: true },
      (err, stdout, stderr) => {
        resolve({ ok: err === null, stdout, stderr: stderr || (err ? err.message : "") });
      },
    );
  });
}

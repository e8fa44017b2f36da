import { execFile } from "node:child_process";
import { ActvmError } from "../shared/errors.ts";

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Options of {@link runTool}. */
export interface RunToolOptions {
  cwd?: string;
  /** Default 5 minutes: a kernel package download on a slow mirror takes a while. */
  timeoutMs?: number;
  /** Names the caller in the error, e.g. "image/kernel". */
  subsystem: string;
}

/**
 * Runs a system tool (apt-get, dpkg, cpio, ...) with the standard system PATH and the C locale,
 * so its output can be parsed, and resolves with its stdout. A missing tool, a non-zero exit or
 * a timeout rejects with IMAGE_BUILD naming the command and the tool's stderr.
 */
export function runTool(file: string, args: string[], opts: RunToolOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd ?? "/",
        timeout: opts.timeoutMs ?? 300_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: SYSTEM_PATH, LC_ALL: "C" },
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        const why = missing ? "not installed" : stderr.trim().split("\n").slice(-5).join("\n");
        reject(
          new ActvmError("IMAGE_BUILD", `${file} ${args.join(" ")}: ${why || err.message}`, {
            subsystem: opts.subsystem,
            cause: err,
          }),
        );
      },
    );
  });
}

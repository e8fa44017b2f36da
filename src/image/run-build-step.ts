import { spawn } from "node:child_process";
import { ActvmError } from "../shared/errors.ts";

/** Options of {@link runBuildStep}. */
export interface BuildStepOptions {
  /** Names the step in errors: "debootstrap", "mkfs.ext4", ... */
  step: string;
  command: string;
  args: readonly string[];
  /** Variables set for the command on top of the inherited environment. */
  setEnv?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Each line the command prints (stdout and stderr, `\r`-separated progress included). */
  onLine?: (line: string) => void;
  /** Called with the child's pid once it runs, e.g. to record it for a later sweep. */
  onSpawn?: (pid: number) => void;
  /** How many of the last lines go into the error message. Default 15. */
  tailLines?: number;
  /** Grace between SIGTERM and SIGKILL on abort. Default 3 s. */
  killGraceMs?: number;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * Runs one build command in its own process group and resolves with its output lines. It
 * rejects with `IMAGE_BUILD` naming the step and quoting the last lines when the command fails,
 * and with `CANCELLED` when `signal` aborts (after the whole group has been killed).
 *
 * @example
 * await runBuildStep({ step: "mkfs.ext4", command: "mkfs.ext4", args: ["-q", "-d", dir, img, "700M"] });
 */
export function runBuildStep(options: BuildStepOptions): Promise<string[]> {
  const tailLines = options.tailLines ?? 15;
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ActvmError("CANCELLED", `image build (${options.step})`, { subsystem: "image" }));
      return;
    }
    // The environment is inherited (proxy settings reach debootstrap's downloads); `env` adds
    // a fixed locale, a non-interactive dpkg and the sbin directories a non-login root may lack.
    const assignments = Object.entries({
      LC_ALL: "C",
      DEBIAN_FRONTEND: "noninteractive",
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...options.setEnv,
    }).map(([k, v]) => `${k}=${v}`);
    const child = spawn("env", [...assignments, options.command, ...options.args], {
      // A group of its own, so an abort can kill everything the step started (dpkg, chroot, ...).
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.pid === undefined || aborted) return;
      aborted = true;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      }, options.killGraceMs ?? 3000);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);

    const partial = { stdout: "", stderr: "" };
    const take = (which: "stdout" | "stderr", chunk: Buffer): void => {
      const text = partial[which] + chunk.toString("utf8");
      const parts = text.split(/\r\n|\n|\r/);
      partial[which] = parts.pop() ?? "";
      for (const line of parts) emit(line);
    };
    const emit = (line: string): void => {
      if (line.trim() === "") return;
      lines.push(line);
      // Keep memory bounded: only the tail is ever quoted.
      if (lines.length > 4 * Math.max(tailLines, 50)) lines.splice(0, lines.length - tailLines);
      options.onLine?.(line);
    };
    child.stdout.on("data", (c: Buffer) => take("stdout", c));
    child.stderr.on("data", (c: Buffer) => take("stderr", c));

    child.on("error", (err) => {
      options.signal?.removeEventListener("abort", onAbort);
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      reject(
        new ActvmError(
          "IMAGE_BUILD",
          missing
            ? `${options.step}: ${options.command} is not installed`
            : `${options.step}: could not start ${options.command}: ${err.message}`,
          {
            subsystem: "image",
            cause: err,
            ...(missing ? { hint: "install it: apt-get install debootstrap e2fsprogs" } : {}),
          },
        ),
      );
    });
    child.on("close", (code, sig) => {
      options.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      for (const which of ["stdout", "stderr"] as const) {
        if (partial[which] !== "") emit(partial[which]);
        partial[which] = "";
      }
      // Stragglers (a daemon a maintainer script started) must not outlive the step.
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      if (aborted) {
        reject(
          new ActvmError("CANCELLED", `image build (${options.step})`, { subsystem: "image" }),
        );
        return;
      }
      if (code === 0) {
        resolve(lines);
        return;
      }
      if (code === 127 && lines.length <= 1) {
        // env's own "No such file or directory": the tool is missing, not failing.
        reject(
          new ActvmError("IMAGE_BUILD", `${options.step}: ${options.command} is not installed`, {
            subsystem: "image",
            hint: "install it: apt-get install debootstrap e2fsprogs",
          }),
        );
        return;
      }
      const tail = lines.slice(-tailLines).map((l) => `  ${l}`);
      const how = sig ? `was killed by ${sig}` : `exited with ${code}`;
      reject(
        new ActvmError(
          "IMAGE_BUILD",
          `${options.step} ${how}${tail.length ? `; last output:\n${tail.join("\n")}` : ""}`,
          { subsystem: "image" },
        ),
      );
    });
  });
}

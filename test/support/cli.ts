import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root of actvm itself. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(ROOT, "bin", "actvm.mjs");

/** What a CLI invocation produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `actvm` binary (the built bundle) as a user would. */
export function runCli(
  args: string[],
  opts: {
    cwd?: string;
    env?: Record<string, string>;
    home: string;
    timeoutMs?: number;
    onSpawn?: (pid: number) => void;
  },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: opts.home,
        ACTVM_HOME: path.join(opts.home, ".actvm"),
        NO_COLOR: "1",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid) opts.onSpawn?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A throwaway git repository with the given files, committed on branch `main`. */
export async function makeRepo(
  files: Record<string, string>,
  opts: { remote?: string } = {},
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "actvm-repo-"));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
  }
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Octo Cat",
        GIT_AUTHOR_EMAIL: "octo@example.invalid",
        GIT_COMMITTER_NAME: "Octo Cat",
        GIT_COMMITTER_EMAIL: "octo@example.invalid",
      },
      stdio: "pipe",
    });
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Octo Cat");
  git("config", "user.email", "octo@example.invalid");
  if (opts.remote) git("remote", "add", "origin", opts.remote);
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return dir;
}

/** A fresh directory for ACTVM_HOME and HOME. */
export async function makeHome(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "actvm-home-"));
}

/** Removes directories made by the helpers. */
export async function cleanup(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

/** Backends the end-to-end suite runs on; bwrap only where it works here. */
export function backendsUnderTest(): string[] {
  const out = ["host"];
  try {
    execFileSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "true"], { stdio: "ignore" });
    out.push("bwrap");
  } catch {
    if (process.env.ACTVM_REQUIRE_ALL === "1")
      throw new Error(
        "bwrap is required (ACTVM_REQUIRE_ALL=1) but does not work: apt-get install bubblewrap",
      );
  }
  return out;
}

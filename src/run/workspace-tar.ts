import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { AgentClient } from "../guest/index.ts";
import { ActvmError } from "../shared/errors.ts";
import { DEFAULT_PATH } from "./run-context.ts";

/** Streams a host directory as an uncompressed tar (dereferencing nothing). */
export async function* tarDirectory(dir: string): AsyncIterable<Buffer> {
  const child = spawn("tar", ["-c", "-C", dir, "."], { stdio: ["ignore", "pipe", "pipe"] });
  yield* drainTar(child, dir);
}

async function* drainTar(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
  dir: string,
): AsyncIterable<Buffer> {
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  for await (const chunk of child.stdout) yield chunk as Buffer;
  const code = await exited;
  if (code !== 0) {
    throw new ActvmError("EXEC_FAILED", `tar of ${dir} failed (exit ${code}): ${stderr.trim()}`, {
      subsystem: "run/workspace",
    });
  }
}

/** Writes small text files into the sandbox through the agent. */
export async function writeGuestFiles(
  agent: AgentClient,
  cwd: string,
  files: { path: string; content: string }[],
): Promise<void> {
  const res = await agent.exec({ argv: ["true"], cwd, env: { PATH: DEFAULT_PATH }, files }).result;
  if (res.exitCode !== 0) {
    throw new ActvmError("EXEC_FAILED", `could not write ${files.map((f) => f.path).join(", ")}`, {
      subsystem: "run/job",
    });
  }
}

/** Copies the repository into the sandbox's workspace. */
export async function copyRepository(
  agent: AgentClient,
  repoDir: string,
  workspace: string,
): Promise<void> {
  await agent.putTar(workspace, tarRepository(repoDir));
}

/**
 * Streams the repository as a tar: tracked files, untracked files that are not ignored, and
 * `.git` — like act's default `--use-gitignore`, so build output and `node_modules` stay out.
 */
export async function* tarRepository(repoDir: string): AsyncIterable<Buffer> {
  const list = await new Promise<Buffer>((resolve, reject) => {
    const git = spawn(
      "git",
      ["-C", repoDir, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const chunks: Buffer[] = [];
    let stderr = "";
    git.stdout.on("data", (c: Buffer) => chunks.push(c));
    git.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    git.on("error", reject);
    git.on("close", (code) =>
      code === 0
        ? resolve(Buffer.concat(chunks))
        : reject(
            new ActvmError("EXEC_FAILED", `git ls-files in ${repoDir} failed: ${stderr.trim()}`, {
              subsystem: "run/workspace",
            }),
          ),
    );
  });
  const names = Buffer.concat([Buffer.from(".git\0"), list]);
  const child = spawn("tar", ["-c", "--null", "--ignore-failed-read", "-C", repoDir, "-T", "-"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(names);
  yield* drainTar(child, repoDir);
}

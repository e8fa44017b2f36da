import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
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

/** A running `actvm` process with its combined output so far. */
export interface CliProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** stdout and stderr as received so far, interleaved. */
  output(): string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts the real `actvm` binary (the built bundle) as a user would, with a private home. */
export function spawnCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; home: string },
): CliProcess {
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
  let all = "";
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    all += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
    all += c.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  return { child, output: () => all, stdout: () => out, stderr: () => err, exited };
}

/** Runs the real `actvm` binary to completion (killed after `timeoutMs`). */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; home: string; timeoutMs?: number },
): Promise<CliResult> {
  const p = spawnCli(args, opts);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  try {
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    clearTimeout(timer);
  }
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

/** Where scripts/build-test-image puts the default guest image. */
export const TEST_IMAGES = path.join(ROOT, ".test-cache", "images");
/** Where the VM tests keep the guest kernel and initramfs. */
export const TEST_KERNELS = path.join(ROOT, ".test-cache", "kernels");

/**
 * A fresh directory for HOME, with ACTVM_HOME at `<home>/.actvm`; its image and kernel caches
 * point at the test ones so the image-based backends find them.
 */
export async function makeHome(): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), "actvm-home-"));
  await mkdir(path.join(home, ".actvm", "cache"), { recursive: true });
  await symlink(TEST_IMAGES, path.join(home, ".actvm", "cache", "images"));
  // The guest kernel and initramfs are fetched once for all tests.
  await mkdir(TEST_KERNELS, { recursive: true });
  await symlink(TEST_KERNELS, path.join(home, ".actvm", "cache", "kernels"));
  return home;
}

/** Removes directories made by the helpers. */
export async function cleanup(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

/**
 * Backends the end-to-end suite runs on: `host` always; `bwrap`, `gvisor` and `qemu` where
 * they work here (with the test image for the last two). Under ACTVM_REQUIRE_ALL=1 (CI) a
 * backend that does not work is an error, not a skip.
 */
export function backendsUnderTest(): string[] {
  const out = ["host"];
  const require = process.env.ACTVM_REQUIRE_ALL === "1";
  const check = (name: string, works: () => boolean, fix: string) => {
    let ok: boolean;
    try {
      ok = works();
    } catch {
      ok = false;
    }
    if (ok) out.push(name);
    else if (require)
      throw new Error(`${name} is required (ACTVM_REQUIRE_ALL=1) but does not work: ${fix}`);
  };
  const hasImage = () =>
    existsSync(TEST_IMAGES) && readdirSync(TEST_IMAGES).some((d) => d.startsWith("default-"));
  check(
    "bwrap",
    () => (
      execFileSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "true"], { stdio: "ignore" }),
      true
    ),
    "apt-get install bubblewrap",
  );
  check(
    "gvisor",
    () =>
      hasImage() &&
      (execFileSync("runsc", ["--network=none", "do", "true"], { stdio: "ignore" }), true),
    "apt-get install runsc, and scripts/build-test-image",
  );
  check(
    "qemu",
    () =>
      hasImage() && (execFileSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }), true),
    "apt-get install qemu-system-x86, and scripts/build-test-image",
  );
  return out;
}

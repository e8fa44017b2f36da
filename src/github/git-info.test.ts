import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { readGitInfo } from "./git-info.ts";

let base: string;
let n = 0;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "actvm-gitinfo-"));
  // Isolate from the machine's git config so user.name and defaults are what each test sets.
  const globalConfig = join(base, "gitconfig");
  writeFileSync(globalConfig, "");
  process.env.GIT_CONFIG_GLOBAL = globalConfig;
  process.env.GIT_CONFIG_NOSYSTEM = "1";
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@example.test",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@example.test",
    },
  }).trim();
}

function newRepo(name = `repo${++n}`, branch = "main"): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", branch);
  return dir;
}

function commit(dir: string, files: Record<string, string | null>, message = "change"): string {
  for (const [file, content] of Object.entries(files)) {
    if (content === null) git(dir, "rm", "-q", file);
    else {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), content);
      git(dir, "add", file);
    }
  }
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

describe("readGitInfo", () => {
  it("reports HEAD, the branch ref and the files the last commit added, changed and removed", async () => {
    const dir = newRepo();
    const first = commit(dir, { "a.txt": "1", "b.txt": "1", "gone.txt": "x" }, "first");
    const sha = commit(
      dir,
      { "a.txt": "2", "gone.txt": null, "src/new file.ts": "n" },
      "second\n\nbody",
    );
    const info = await readGitInfo(dir);
    expect(info.sha).toBe(sha);
    expect(info.ref).toBe("refs/heads/main");
    expect(info.refType).toBe("branch");
    expect(info.branch).toBe("main");
    expect(info.parentSha).toBe(first);
    expect(info.changes).toEqual({
      added: ["src/new file.ts"],
      modified: ["a.txt"],
      removed: ["gone.txt"],
    });
    expect(info.changedFiles).toEqual(["a.txt", "gone.txt", "src/new file.ts"]);
    expect(info.headCommit.message).toBe("second\n\nbody");
    expect(info.headCommit.author.email).toBe("ada@example.test");
    expect(info.dirty).toBe(false);
  });

  it("lists every file as added for a root commit", async () => {
    const dir = newRepo();
    commit(dir, { "x.txt": "1", "y/z.txt": "2" });
    const info = await readGitInfo(dir);
    expect(info.parentSha).toBeUndefined();
    expect(info.changes.added).toEqual(["x.txt", "y/z.txt"]);
  });

  it("uses refs/tags/<tag> for a detached HEAD at a tag and the sha when at no tag", async () => {
    const dir = newRepo();
    const tagged = commit(dir, { a: "1" });
    git(dir, "tag", "v1.2.0");
    commit(dir, { a: "2" });
    git(dir, "checkout", "-q", "--detach", "v1.2.0");
    const atTag = await readGitInfo(dir);
    expect(atTag.sha).toBe(tagged);
    expect(atTag.ref).toBe("refs/tags/v1.2.0");
    expect(atTag.refType).toBe("tag");
    expect(atTag.branch).toBeUndefined();

    git(dir, "checkout", "-q", "--detach", "main");
    const detached = await readGitInfo(dir);
    expect(detached.ref).toBe(detached.sha);
    expect(detached.refType).toBe("detached");
  });

  it.each([
    ["https://github.com/octo-org/hello-world.git", "octo-org/hello-world"],
    ["git@github.com:octo-org/hello-world.git", "octo-org/hello-world"],
    ["ssh://git@example.test:2222/team/tool", "team/tool"],
  ])("derives the repository from an origin of %s", async (url, expected) => {
    const dir = newRepo();
    commit(dir, { a: "1" });
    git(dir, "remote", "add", "origin", url);
    const info = await readGitInfo(dir);
    expect(info.repository).toBe(expected);
    expect(info.repositoryOwner).toBe(expected.split("/")[0]);
  });

  it("names a repository whose origin is a local path local/<basename>", async () => {
    const upstream = newRepo("upstream-proj");
    commit(upstream, { a: "1" });
    const dir = join(base, `clone${++n}`);
    git(base, "clone", "-q", upstream, dir);
    const info = await readGitInfo(dir);
    expect(info.repository).toBe("local/upstream-proj");
    // A clone knows origin/HEAD, which decides the default branch.
    expect(info.defaultBranch).toBe("main");
  });

  it("names a repository without a remote local/<directory name>", async () => {
    const dir = newRepo("my-project");
    commit(dir, { a: "1" });
    expect((await readGitInfo(dir)).repository).toBe("local/my-project");
  });

  it("never keeps credentials from the origin URL", async () => {
    const dir = newRepo();
    commit(dir, { a: "1" });
    git(dir, "remote", "add", "origin", "https://x-access-token:ghs_secret123@github.com/o/r.git");
    const info = await readGitInfo(dir);
    expect(info.repository).toBe("o/r");
    expect(info.remoteUrl).toBe("https://github.com/o/r.git");
    expect(JSON.stringify(info)).not.toContain("ghs_secret123");
  });

  it("takes the actor from git config user.name and falls back to actvm", async () => {
    const dir = newRepo();
    commit(dir, { a: "1" });
    expect((await readGitInfo(dir)).actor).toBe("actvm");
    git(dir, "config", "user.name", "Grace Hopper");
    expect((await readGitInfo(dir)).actor).toBe("Grace Hopper");
  });

  it("reports a modified or untracked file as a dirty work tree", async () => {
    const dir = newRepo();
    commit(dir, { "a.txt": "1" });
    expect((await readGitInfo(dir)).dirty).toBe(false);
    writeFileSync(join(dir, "untracked.txt"), "u");
    expect((await readGitInfo(dir)).dirty).toBe(true);
    rmSync(join(dir, "untracked.txt"));
    writeFileSync(join(dir, "a.txt"), "changed");
    expect((await readGitInfo(dir)).dirty).toBe(true);
  });

  it("guesses the default branch from main when on another branch", async () => {
    const dir = newRepo();
    const mainSha = commit(dir, { a: "1" });
    git(dir, "checkout", "-q", "-b", "feature/x");
    commit(dir, { a: "2" });
    const info = await readGitInfo(dir);
    expect(info.branch).toBe("feature/x");
    expect(info.defaultBranch).toBe("main");
    expect(info.defaultBranchSha).toBe(mainSha);
  });

  it("falls back to the current branch as default when neither main nor master exists", async () => {
    const dir = newRepo(undefined, "trunk");
    commit(dir, { a: "1" });
    expect((await readGitInfo(dir)).defaultBranch).toBe("trunk");
  });

  it("works from a sub-directory and reports the top level as root", async () => {
    const dir = newRepo();
    commit(dir, { "deep/er/f.txt": "1" });
    const info = await readGitInfo(join(dir, "deep", "er"));
    expect(info.root).toBe(dir);
  });

  it("refuses a directory that is not a git repository with a hint about -C", async () => {
    const dir = join(base, `plain${++n}`);
    mkdirSync(dir);
    const err = await readGitInfo(dir).catch((e: unknown) => e);
    expect(isActvmError(err, "USAGE")).toBe(true);
    expect((err as Error).message).toContain("is not a git repository");
    expect((err as { hint?: string }).hint).toContain("-C");
  });

  it("refuses a directory that does not exist", async () => {
    const err = await readGitInfo(join(base, "missing-dir")).catch((e: unknown) => e);
    expect(isActvmError(err, "USAGE")).toBe(true);
    expect((err as Error).message).toContain("is not a directory");
  });

  it("says clearly when the repository has no commits", async () => {
    const dir = newRepo();
    const err = await readGitInfo(dir).catch((e: unknown) => e);
    expect(isActvmError(err, "USAGE")).toBe(true);
    expect((err as Error).message).toContain("has no commits yet");
  });
});

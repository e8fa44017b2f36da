import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { ActvmError } from "../shared/errors.ts";
import { parseRemoteUrl } from "./parse-remote-url.ts";
import { runGit } from "./run-git.ts";

/** A person as git records them on a commit. */
export interface GitPerson {
  name: string;
  email: string;
  /** ISO 8601 with offset. */
  date: string;
}

/** The commit HEAD points at. */
export interface GitCommit {
  sha: string;
  treeSha: string;
  message: string;
  author: GitPerson;
  committer: GitPerson;
}

/** Files a push of HEAD changed, relative to its first parent (all files for a root commit). */
export interface GitChanges {
  added: string[];
  modified: string[];
  removed: string[];
}

/** What a local repository says about the event being simulated. */
export interface GitInfo {
  /** Absolute path of the work tree's top level. */
  root: string;
  /** HEAD's commit id. */
  sha: string;
  /** `refs/heads/<branch>`, `refs/tags/<tag>` for a detached HEAD at a tag, else the sha. */
  ref: string;
  /** `branch`, `tag`, or `detached` when HEAD is neither on a branch nor at a tag. */
  refType: "branch" | "tag" | "detached";
  /** The checked-out branch; undefined when HEAD is detached. */
  branch: string | undefined;
  /** The tag HEAD sits at, when detached at one. */
  tag: string | undefined;
  /** `origin/HEAD`'s branch, else `main` or `master` when present, else the current branch. */
  defaultBranch: string;
  /** The default branch's commit when it can be resolved locally. */
  defaultBranchSha: string | undefined;
  /** `owner/name`. */
  repository: string;
  repositoryOwner: string;
  repositoryName: string;
  /** `origin`'s URL with any credentials removed; undefined without an origin. */
  remoteUrl: string | undefined;
  /** `git config user.name`, else `actvm`. */
  actor: string;
  actorEmail: string | undefined;
  /** HEAD's first parent, or undefined for a root commit. */
  parentSha: string | undefined;
  headCommit: GitCommit;
  changes: GitChanges;
  /** Every path in {@link GitChanges}, sorted. */
  changedFiles: string[];
  /** True when the work tree or index differs from HEAD, untracked files included. */
  dirty: boolean;
}

const SUBSYSTEM = "github/git";
const NOT_A_REPO_HINT = "pass -C DIR with the directory of a git repository";

/**
 * Reads what a simulated event needs from the git repository at `repoDir`: HEAD, its ref, the
 * `owner/name` from `origin`, the actor and the files HEAD changed. Throws a USAGE
 * {@link ActvmError} when `repoDir` is not a git repository or has no commit yet.
 *
 * @example
 * const git = await readGitInfo(process.cwd());
 * console.log(git.repository, git.ref, git.sha);
 */
export async function readGitInfo(repoDir: string): Promise<GitInfo> {
  const dir = resolve(repoDir);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new ActvmError("USAGE", `${dir} is not a directory`, {
      subsystem: SUBSYSTEM,
      hint: NOT_A_REPO_HINT,
    });
  }
  const top = await runGit(dir, ["rev-parse", "--show-toplevel"]);
  if (!top.ok) {
    throw new ActvmError("USAGE", `${dir} is not a git repository (${firstLine(top.stderr)})`, {
      subsystem: SUBSYSTEM,
      hint: NOT_A_REPO_HINT,
    });
  }
  const root = top.stdout.trim();
  const git = (...args: string[]) => runGit(root, args);

  const head = await git("rev-parse", "--verify", "--quiet", "HEAD^{commit}");
  if (!head.ok) {
    throw new ActvmError("USAGE", `the git repository at ${root} has no commits yet`, {
      subsystem: SUBSYSTEM,
      hint: "commit something first, e.g. git commit --allow-empty -m init",
    });
  }
  const sha = head.stdout.trim();

  const [branchRes, tagsRes, originRes, nameRes, emailRes, parentRes, commitRes, statusRes] =
    await Promise.all([
      git("symbolic-ref", "--quiet", "--short", "HEAD"),
      git("tag", "--points-at", "HEAD", "--sort=-creatordate"),
      git("config", "--get", "remote.origin.url"),
      git("config", "--get", "user.name"),
      git("config", "--get", "user.email"),
      git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"),
      git("log", "-1", "--format=%H%x00%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", "HEAD"),
      git("status", "--porcelain=v1", "-z", "--untracked-files=normal"),
    ]);

  const branch = branchRes.ok ? branchRes.stdout.trim() || undefined : undefined;
  const tag = branch
    ? undefined
    : tagsRes.stdout
        .split("\n")
        .find((t) => t.trim() !== "")
        ?.trim();
  const ref = branch ? `refs/heads/${branch}` : tag ? `refs/tags/${tag}` : sha;
  const refType = branch ? "branch" : tag ? "tag" : "detached";

  const remoteUrl =
    originRes.ok && originRes.stdout.trim() ? stripCredentials(originRes.stdout.trim()) : undefined;
  const parsed = remoteUrl ? parseRemoteUrl(remoteUrl) : undefined;
  const repoName = parsed ?? { owner: "local", name: sanitizeName(basename(root)) || "repository" };

  const parentSha = parentRes.ok ? parentRes.stdout.trim() : undefined;
  const headCommit = parseCommit(commitRes.stdout, sha);
  const changes = await readChanges(root, parentSha);
  const { defaultBranch, defaultBranchSha } = await guessDefaultBranch(root, branch, sha);
  const actor = nameRes.ok && nameRes.stdout.trim() ? nameRes.stdout.trim() : "actvm";

  return {
    root,
    sha,
    ref,
    refType,
    branch,
    tag,
    defaultBranch,
    defaultBranchSha,
    repository: `${repoName.owner}/${repoName.name}`,
    repositoryOwner: repoName.owner,
    repositoryName: repoName.name,
    remoteUrl,
    actor,
    actorEmail: emailRes.ok && emailRes.stdout.trim() ? emailRes.stdout.trim() : undefined,
    parentSha,
    headCommit,
    changes,
    changedFiles: [...changes.added, ...changes.modified, ...changes.removed].sort(),
    dirty: statusRes.ok ? statusRes.stdout.length > 0 : false,
  };
}

async function readChanges(root: string, parentSha: string | undefined): Promise<GitChanges> {
  // --root makes a root commit's files show as added; merges compare with the first parent.
  const args = parentSha
    ? ["diff", "--name-status", "--no-renames", "-z", parentSha, "HEAD"]
    : [
        "diff-tree",
        "--root",
        "--no-commit-id",
        "-r",
        "--name-status",
        "--no-renames",
        "-z",
        "HEAD",
      ];
  const res = await runGit(root, args);
  const out: GitChanges = { added: [], modified: [], removed: [] };
  if (!res.ok) return out;
  const parts = res.stdout.split("\0");
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i]!;
    const file = parts[i + 1]!;
    if (status === "" || file === "") continue;
    if (status.startsWith("A")) out.added.push(file);
    else if (status.startsWith("D")) out.removed.push(file);
    else out.modified.push(file);
  }
  return out;
}

async function guessDefaultBranch(
  root: string,
  branch: string | undefined,
  sha: string,
): Promise<{ defaultBranch: string; defaultBranchSha: string | undefined }> {
  const originHead = await runGit(root, [
    "symbolic-ref",
    "--quiet",
    "--short",
    "refs/remotes/origin/HEAD",
  ]);
  const candidates: string[] = [];
  if (originHead.ok && originHead.stdout.trim().startsWith("origin/")) {
    candidates.push(originHead.stdout.trim().slice("origin/".length));
  }
  candidates.push("main", "master");
  for (const name of candidates) {
    for (const full of [`refs/heads/${name}`, `refs/remotes/origin/${name}`]) {
      const res = await runGit(root, ["rev-parse", "--verify", "--quiet", `${full}^{commit}`]);
      if (res.ok) return { defaultBranch: name, defaultBranchSha: res.stdout.trim() };
    }
  }
  if (branch) return { defaultBranch: branch, defaultBranchSha: sha };
  return { defaultBranch: "main", defaultBranchSha: undefined };
}

function parseCommit(out: string, sha: string): GitCommit {
  const f = out.split("\0");
  const at = (i: number) => f[i] ?? "";
  return {
    sha: at(0).trim() || sha,
    treeSha: at(1),
    author: { name: at(2), email: at(3), date: at(4) },
    committer: { name: at(5), email: at(6), date: at(7) },
    message: f.slice(8).join("\0").replace(/\n+$/, ""),
  };
}

/** Drops `user:password@` so a token in a remote URL never reaches a payload or a log. */
function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}

function sanitizeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "");
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.trim() || "git rev-parse failed";
}

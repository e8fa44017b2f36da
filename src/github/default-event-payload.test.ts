import { describe, expect, it } from "vitest";
import { defaultEventPayload } from "./default-event-payload.ts";
import { makeGitInfo } from "./git-info-fixture.ts";

const SHA = "a".repeat(40);
const PARENT = "b".repeat(40);
const MAIN = "c".repeat(40);
const gitInfo = makeGitInfo;

describe("defaultEventPayload", () => {
  it("builds a push like GitHub's, with before/after, the head commit and its files", () => {
    const p = defaultEventPayload("push", gitInfo());
    expect(p).toMatchObject({
      ref: "refs/heads/feature/login",
      before: PARENT,
      after: SHA,
      repository: {
        full_name: "octo/app",
        name: "app",
        owner: { login: "octo" },
        default_branch: "main",
        html_url: "https://github.com/octo/app",
      },
      head_commit: {
        id: SHA,
        message: "Add login\n\nWith a form.",
        added: ["login.ts"],
        modified: ["app.ts"],
      },
      pusher: { name: "ada", email: "ada@example.test" },
      sender: { login: "ada", type: "User" },
    });
    expect(p.commits).toEqual([p.head_commit]);
  });

  it("uses the all-zero sha as before for a root commit", () => {
    const p = defaultEventPayload("push", gitInfo({ parentSha: undefined }));
    expect(p.before).toBe("0".repeat(40));
    expect(p.created).toBe(true);
  });

  it("pushes the default branch when HEAD is detached at no tag", () => {
    expect(
      defaultEventPayload("push", gitInfo({ ref: SHA, refType: "detached", branch: undefined }))
        .ref,
    ).toBe("refs/heads/main");
  });

  it("builds an opened pull request from the current branch into the default branch", () => {
    const p = defaultEventPayload("pull_request", gitInfo());
    expect(p).toMatchObject({
      action: "opened",
      number: 1,
      pull_request: {
        number: 1,
        head: { ref: "feature/login", sha: SHA, label: "octo:feature/login" },
        base: { ref: "main", sha: MAIN },
        title: "Add login",
        body: "With a form.",
      },
      repository: { full_name: "octo/app" },
    });
  });

  it("carries workflow_dispatch inputs and the ref", () => {
    const inputs = { name: "world", debug: true };
    const p = defaultEventPayload("workflow_dispatch", gitInfo(), inputs);
    expect(p.inputs).toEqual(inputs);
    expect(p.inputs).not.toBe(inputs);
    expect(p.ref).toBe("refs/heads/feature/login");
  });

  it("gives schedule and other events the repository and sender", () => {
    expect(Object.keys(defaultEventPayload("schedule", gitInfo())).sort()).toEqual([
      "repository",
      "schedule",
      "sender",
    ]);
    expect(Object.keys(defaultEventPayload("release", gitInfo())).sort()).toEqual([
      "repository",
      "sender",
    ]);
  });

  it("points links at a GitHub Enterprise server when asked", () => {
    const p = defaultEventPayload(
      "push",
      gitInfo(),
      {},
      { serverUrl: "https://ghe.example.test/", apiUrl: "https://ghe.example.test/api/v3" },
    );
    expect((p.repository as Record<string, unknown>).html_url).toBe(
      "https://ghe.example.test/octo/app",
    );
    expect((p.repository as Record<string, unknown>).url).toBe(
      "https://ghe.example.test/api/v3/repos/octo/app",
    );
  });
});

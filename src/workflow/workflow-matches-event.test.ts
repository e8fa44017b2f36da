import { describe, expect, it } from "vitest";
import { loadWorkflow } from "./load-workflow.ts";
import type { WorkflowDef } from "./model.ts";
import { workflowMatchesEvent } from "./workflow-matches-event.ts";

async function wf(on: string): Promise<WorkflowDef> {
  const r = await loadWorkflow({
    path: "/w.yml",
    file: "w.yml",
    content: `on:\n${on}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n`,
  });
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
}
const push = (ref: string, changedFiles?: string[]) => ({
  name: "push",
  payload: { ref },
  ...(changedFiles ? { changedFiles } : {}),
});
const pr = (action: string, base: string, changedFiles?: string[]) => ({
  name: "pull_request",
  payload: { action, pull_request: { base: { ref: base } } },
  ...(changedFiles ? { changedFiles } : {}),
});

describe("workflowMatchesEvent", () => {
  it("matches only events listed in on:", async () => {
    const w = await wf("  push:\n  workflow_dispatch:");
    expect(workflowMatchesEvent(w, push("refs/heads/x"))).toBe(true);
    expect(workflowMatchesEvent(w, { name: "workflow_dispatch", payload: {} })).toBe(true);
    expect(workflowMatchesEvent(w, pr("opened", "main"))).toBe(false);
  });

  it("applies branches to pushed branches", async () => {
    const w = await wf("  push:\n    branches: [main, 'release/**']");
    expect(workflowMatchesEvent(w, push("refs/heads/main"))).toBe(true);
    expect(workflowMatchesEvent(w, push("refs/heads/release/1/2"))).toBe(true);
    expect(workflowMatchesEvent(w, push("refs/heads/feature"))).toBe(false);
  });

  it("applies branches-ignore", async () => {
    const w = await wf("  push:\n    branches-ignore: ['dependabot/**']");
    expect(workflowMatchesEvent(w, push("refs/heads/dependabot/npm/x"))).toBe(false);
    expect(workflowMatchesEvent(w, push("refs/heads/main"))).toBe(true);
  });

  it("does not run a branches-only push workflow for tags, nor a tags-only one for branches", async () => {
    const branchesOnly = await wf("  push:\n    branches: ['**']");
    expect(workflowMatchesEvent(branchesOnly, push("refs/tags/v1"))).toBe(false);
    const tagsOnly = await wf("  push:\n    tags: ['v*']");
    expect(workflowMatchesEvent(tagsOnly, push("refs/tags/v1.2"))).toBe(true);
    expect(workflowMatchesEvent(tagsOnly, push("refs/tags/x1"))).toBe(false);
    expect(workflowMatchesEvent(tagsOnly, push("refs/heads/main"))).toBe(false);
    const both = await wf("  push:\n    branches: [main]\n    tags: ['v*']");
    expect(workflowMatchesEvent(both, push("refs/heads/main"))).toBe(true);
    expect(workflowMatchesEvent(both, push("refs/tags/v1"))).toBe(true);
  });

  it("applies tags-ignore", async () => {
    const w = await wf("  push:\n    tags-ignore: ['*-rc*']");
    expect(workflowMatchesEvent(w, push("refs/tags/v1-rc1"))).toBe(false);
    expect(workflowMatchesEvent(w, push("refs/tags/v1"))).toBe(true);
  });

  it("runs a push without filters for branches and tags alike", async () => {
    const w = await wf("  push:");
    expect(workflowMatchesEvent(w, push("refs/tags/v1"))).toBe(true);
    expect(workflowMatchesEvent(w, push("refs/heads/x"))).toBe(true);
  });

  it("applies pull_request branch filters to the base branch", async () => {
    const w = await wf("  pull_request:\n    branches: [main]");
    expect(workflowMatchesEvent(w, pr("opened", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, pr("opened", "develop"))).toBe(false);
  });

  it("uses GitHub's default pull_request types: opened, synchronize, reopened", async () => {
    const w = await wf("  pull_request:");
    expect(workflowMatchesEvent(w, pr("opened", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, pr("synchronize", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, pr("reopened", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, pr("closed", "main"))).toBe(false);
    expect(workflowMatchesEvent(w, pr("labeled", "main"))).toBe(false);
  });

  it("uses the listed types when given, and all types for other events", async () => {
    const w = await wf(
      "  pull_request:\n    types: [closed]\n  issues:\n  release:\n    types: [published]",
    );
    expect(workflowMatchesEvent(w, pr("closed", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, pr("opened", "main"))).toBe(false);
    expect(workflowMatchesEvent(w, { name: "issues", payload: { action: "deleted" } })).toBe(true);
    expect(workflowMatchesEvent(w, { name: "release", payload: { action: "published" } })).toBe(
      true,
    );
    expect(workflowMatchesEvent(w, { name: "release", payload: { action: "created" } })).toBe(
      false,
    );
  });

  it("applies paths when the changed files are known", async () => {
    const w = await wf("  push:\n    paths: ['src/**', '!src/**/*.md']");
    expect(workflowMatchesEvent(w, push("refs/heads/main", ["src/a/b.ts"]))).toBe(true);
    expect(workflowMatchesEvent(w, push("refs/heads/main", ["src/a/readme.md"]))).toBe(false);
    expect(
      workflowMatchesEvent(w, push("refs/heads/main", ["docs/x", "src/readme.md", "src/x.ts"])),
    ).toBe(true);
    expect(workflowMatchesEvent(w, push("refs/heads/main"))).toBe(true);
  });

  it("applies paths-ignore: skips only when every changed file is ignored", async () => {
    const w = await wf("  pull_request:\n    paths-ignore: ['docs/**', '*.md']");
    expect(workflowMatchesEvent(w, pr("opened", "main", ["docs/a.md", "README.md"]))).toBe(false);
    expect(workflowMatchesEvent(w, pr("opened", "main", ["docs/a.md", "src/x.ts"]))).toBe(true);
    expect(workflowMatchesEvent(w, pr("opened", "main", ["sub/README.md"]))).toBe(true);
  });

  it("does not evaluate paths for tag pushes", async () => {
    const w = await wf("  push:\n    tags: ['v*']\n    paths: ['src/**']");
    expect(workflowMatchesEvent(w, push("refs/tags/v1", ["docs/x"]))).toBe(true);
  });

  it("filters workflow_run by workflow name and head branch", async () => {
    const w = await wf(
      "  workflow_run:\n    workflows: [CI]\n    types: [completed]\n    branches: [main]",
    );
    const ev = (name: string, branch: string, action = "completed") => ({
      name: "workflow_run",
      payload: { action, workflow: { name }, workflow_run: { head_branch: branch } },
    });
    expect(workflowMatchesEvent(w, ev("CI", "main"))).toBe(true);
    expect(workflowMatchesEvent(w, ev("Other", "main"))).toBe(false);
    expect(workflowMatchesEvent(w, ev("CI", "dev"))).toBe(false);
    expect(workflowMatchesEvent(w, ev("CI", "main", "requested"))).toBe(false);
  });

  it("matches schedule events to the configured cron", async () => {
    const w = await wf("  schedule:\n    - cron: '0 3 * * *'");
    expect(workflowMatchesEvent(w, { name: "schedule", payload: { schedule: "0 3 * * *" } })).toBe(
      true,
    );
    expect(workflowMatchesEvent(w, { name: "schedule", payload: { schedule: "0 4 * * *" } })).toBe(
      false,
    );
  });

  it("accepts on: given as a single event name or a list", async () => {
    const single = await wf(" push");
    expect(workflowMatchesEvent(single, push("refs/heads/x"))).toBe(true);
    const list = await wf(" [push, pull_request]");
    expect(workflowMatchesEvent(list, pr("opened", "main"))).toBe(true);
  });
});

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostProvider, createSessionManager, type SessionManager } from "../sandbox/index.ts";
import type { ParsedWorkflow } from "../workflow/index.ts";
import { WorkflowExecutor } from "./workflow-executor.ts";

// Runs the seed's ParsedWorkflow shape through a real host sandbox and agent.
describe("WorkflowExecutor", () => {
  let base: string;
  let sessions: SessionManager;
  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "actvm-wx-"));
    sessions = createSessionManager({
      provider: createHostProvider({ baseDir: base }),
      maxConcurrent: 2,
    });
  });
  afterAll(async () => {
    await sessions.stop();
    await rm(base, { recursive: true, force: true });
  });

  const workflow = (
    steps: ParsedWorkflow["steps"],
    extra: Partial<ParsedWorkflow> = {},
  ): ParsedWorkflow => ({
    name: "seed",
    trigger: "push",
    environment: { GREETING: "hi" },
    setup_commands: ["echo setting-up > setup.txt"],
    steps,
    cleanup_commands: ["echo cleaning"],
    cache_paths: [],
    ...extra,
  });
  const step = (
    name: string,
    command: string,
    more: Partial<ParsedWorkflow["steps"][number]> = {},
  ) => ({
    name,
    command,
    working_dir: ".",
    continue_on_error: false,
    timeout_seconds: 30,
    ...more,
  });

  it("runs setup, steps and cleanup in one sandbox and succeeds", async () => {
    const ex = new WorkflowExecutor({ sessions });
    const r = await ex.executeWorkflow(workflow([step("Build", "cat setup.txt; echo $GREETING")]), {
      id: "seed-ok",
    });
    expect(r.success).toBe(true);
    expect(r.results.map((x) => `${x.phase}:${x.status}`)).toEqual([
      "setup:success",
      "step:success",
      "cleanup:success",
    ]);
    expect(r.results[1]?.stdout).toBe("setting-up\nhi\n");
    expect(r.summary).toContain("completed successfully");
    expect(sessions.stats().active).toBe(0);
  });

  it("reports failure when a step fails, skips later steps and still cleans up", async () => {
    const ex = new WorkflowExecutor({ sessions });
    const r = await ex.executeWorkflow(
      workflow([step("Build", "exit 4"), step("Test", "echo never")]),
      { id: "seed-fail" },
    );
    expect(r.success).toBe(false);
    expect(r.results.map((x) => x.status)).toEqual(["success", "failure", "skipped", "success"]);
    expect(r.results[1]?.exit_code).toBe(4);
    expect(r.summary).toContain("failed");
  });

  it("keeps going past a step with continue_on_error and stays successful", async () => {
    const ex = new WorkflowExecutor({ sessions });
    const r = await ex.executeWorkflow(
      workflow([step("Lint", "false", { continue_on_error: true }), step("Test", "echo ran")]),
      { id: "seed-coe" },
    );
    expect(r.success).toBe(true);
    expect(r.results.filter((x) => x.phase === "step").map((x) => x.status)).toEqual([
      "failure",
      "success",
    ]);
  });

  it("fails on a setup failure without running steps", async () => {
    const ex = new WorkflowExecutor({ sessions });
    const r = await ex.executeWorkflow(
      workflow([step("Build", "echo x")], { setup_commands: ["exit 1"] }),
      { id: "seed-setup" },
    );
    expect(r.success).toBe(false);
    expect(r.results.map((x) => `${x.phase}:${x.status}`)).toEqual([
      "setup:failure",
      "step:skipped",
      "cleanup:success",
    ]);
  });

  it("enforces timeout_seconds and masks secrets in results", async () => {
    const ex = new WorkflowExecutor({ sessions, grace: { interrupt: 200, terminate: 200 } });
    const r = await ex.executeWorkflow(
      workflow([
        step("Leak", "echo token=hunter2-secret"),
        step("Hang", "sleep 60", { timeout_seconds: 1 }),
      ]),
      { id: "seed-timeout", secrets: ["hunter2-secret"] },
    );
    expect(r.results[1]?.stdout).toBe("token=***\n");
    expect(r.results[2]?.timed_out).toBe(true);
    expect(r.success).toBe(false);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadWorkflow } from "./load-workflow.ts";
import type { WorkflowDef } from "./model.ts";
import { toParsedWorkflow } from "./to-parsed-workflow.ts";

async function wf(content: string): Promise<WorkflowDef> {
  const r = await loadWorkflow({ path: "/w.yml", file: "w.yml", content });
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
}
const fixture = () =>
  wf(readFileSync(join(import.meta.dirname, "fixtures", "ci-multi-job.yml"), "utf8"));

describe("toParsedWorkflow", () => {
  it("flattens a job into the seed's shape, dropping checkout and collecting cache paths", async () => {
    const { value, diagnostics } = await toParsedWorkflow(await fixture(), "build", {
      contexts: { matrix: { node: "20", os: "ubuntu" } },
    });
    expect(value).toMatchObject({
      name: "CI",
      trigger: "push",
      environment: { WORKFLOW_LEVEL: "top" },
      setup_commands: [],
      cleanup_commands: [],
      cache_paths: ["~/.npm", "node_modules"],
    });
    expect(value!.steps).toEqual([
      {
        name: "Build on 20",
        command: 'echo "node 20"\ncat <<EOF\ndone\nEOF\n',
        working_dir: "app/sub",
        continue_on_error: true,
        timeout_seconds: 300,
      },
    ]);
    // The local composite action cannot be flattened; it is reported, not silently dropped.
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: "warning",
        line: 61,
        message: expect.stringContaining("./.github/actions/setup-tool"),
      }),
    ]);
  });

  it("leaves expressions as written when their contexts are unknown", async () => {
    const { value } = await toParsedWorkflow(await fixture(), "build");
    expect(value!.steps[0]!.name).toBe("Build on ${{ matrix.node }}");
    expect(value!.steps[0]!.command).toContain('echo "node ${{ matrix.node }}"');
  });

  it("substitutes known contexts and keeps unknown ones and run-time functions in one string", async () => {
    const w = await wf(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ matrix.os }} ${{ secrets.TOKEN }} ${{ hashFiles('x') }} ${{ 1 == 1 }}\n",
    );
    const { value } = await toParsedWorkflow(w, "a", { contexts: { matrix: { os: "linux" } } });
    expect(value!.steps[0]!.command).toBe(
      "echo linux ${{ secrets.TOKEN }} ${{ hashFiles('x') }} true",
    );
  });

  it("merges workflow and job env, exports step env, and uses workflow defaults and GitHub's timeout", async () => {
    const { value } = await toParsedWorkflow(await fixture(), "setup");
    expect(value!.environment).toEqual({ WORKFLOW_LEVEL: "top", JOB_LEVEL: "job" });
    expect(value!.steps).toEqual([
      {
        name: `Run echo 'matrix=["18","20"]' >> "$GITHUB_OUTPUT"`,
        command: `export STEP_LEVEL='step'\necho 'matrix=["18","20"]' >> "$GITHUB_OUTPUT"`,
        working_dir: "app",
        continue_on_error: false,
        timeout_seconds: 360 * 60,
      },
    ]);
  });

  it("uses the workspace '.' when no working directory is set, and warns about conditions", async () => {
    const w = await wf(
      "on: [pull_request]\njobs:\n  a:\n    runs-on: x\n    timeout-minutes: 7\n    steps:\n      - run: make\n        if: always()\n",
    );
    const { value, diagnostics } = await toParsedWorkflow(w, "a");
    expect(value!.trigger).toBe("pull_request");
    expect(value!.steps[0]).toMatchObject({
      working_dir: ".",
      timeout_seconds: 420,
      name: "Run make",
    });
    expect(diagnostics[0]).toMatchObject({
      severity: "warning",
      message: expect.stringContaining("always()"),
    });
  });

  it("shows a quoted lone expression as written, without the YAML quotes", async () => {
    const w = await wf(
      'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: "${{ matrix.cmd }}"\n',
    );
    expect((await toParsedWorkflow(w, "a")).value!.steps[0]!.command).toBe("${{ matrix.cmd }}");
    const known = await toParsedWorkflow(w, "a", { contexts: { matrix: { cmd: "make all" } } });
    expect(known.value!.steps[0]!.command).toBe("make all");
  });

  it("reports an unknown job", async () => {
    const r = await toParsedWorkflow(await fixture(), "nope");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({
      severity: "error",
      hint: "jobs are: setup, build, test",
    });
  });
});

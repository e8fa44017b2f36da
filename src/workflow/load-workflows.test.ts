import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadWorkflows } from "./load-workflows.ts";

const ok = (name: string) =>
  `name: ${name}\non: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n`;

describe("loadWorkflows", () => {
  let repo: string;
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), "actvm-wf-"));
    mkdirSync(join(repo, ".github/workflows"), { recursive: true });
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it("loads every .yml and .yaml in .github/workflows sorted by name, with repo-relative files", async () => {
    writeFileSync(join(repo, ".github/workflows/b.yaml"), ok("B"));
    writeFileSync(join(repo, ".github/workflows/a.yml"), ok("A"));
    writeFileSync(join(repo, ".github/workflows/notes.md"), "# not a workflow");
    const { workflows, diagnostics } = await loadWorkflows(repo);
    expect(diagnostics).toEqual([]);
    expect(workflows.map((w) => [w.name, w.file])).toEqual([
      ["A", ".github/workflows/a.yml"],
      ["B", ".github/workflows/b.yaml"],
    ]);
    expect(workflows[0]!.path).toBe(join(repo, ".github/workflows/a.yml"));
  });

  it("loads a single file given as the path, like act's -W", async () => {
    writeFileSync(join(repo, ".github/workflows/a.yml"), ok("A"));
    writeFileSync(join(repo, "other.yml"), ok("Other"));
    const { workflows } = await loadWorkflows(repo, "other.yml");
    expect(workflows.map((w) => [w.name, w.file])).toEqual([["Other", "other.yml"]]);
  });

  it("keeps loading other files when one is invalid and reports its diagnostics", async () => {
    writeFileSync(join(repo, ".github/workflows/a.yml"), "on: [push\n");
    writeFileSync(join(repo, ".github/workflows/b.yml"), ok("B"));
    const { workflows, diagnostics } = await loadWorkflows(repo);
    expect(workflows.map((w) => w.name)).toEqual(["B"]);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: "error", file: ".github/workflows/a.yml" }),
    ]);
  });

  it("reports a missing path as a diagnostic instead of throwing", async () => {
    const { workflows, diagnostics } = await loadWorkflows(repo, "nope/dir");
    expect(workflows).toEqual([]);
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: "error",
        file: "nope/dir",
        message: expect.stringContaining("no such file"),
      }),
    ]);
  });

  it.skipIf(process.getuid?.() === 0)(
    "reports an unreadable file as a diagnostic (skipped as root, who can read any file)",
    async () => {
      const p = join(repo, ".github/workflows/a.yml");
      writeFileSync(p, ok("A"));
      chmodSync(p, 0o000);
      const { diagnostics } = await loadWorkflows(repo);
      expect(diagnostics[0]!.message).toContain("permission denied");
    },
  );

  it("warns when the folder holds no workflows", async () => {
    const { workflows, diagnostics } = await loadWorkflows(repo);
    expect(workflows).toEqual([]);
    expect(diagnostics).toEqual([expect.objectContaining({ severity: "warning" })]);
  });
});

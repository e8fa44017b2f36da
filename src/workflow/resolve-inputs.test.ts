import { describe, expect, it } from "vitest";
import { loadWorkflow } from "./load-workflow.ts";
import type { WorkflowDef } from "./model.ts";
import { resolveInputs } from "./resolve-inputs.ts";

async function wf(inputs: string, event = "workflow_dispatch"): Promise<WorkflowDef> {
  const content = `on:\n  ${event}:\n    inputs:\n${inputs}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n`;
  const r = await loadWorkflow({ path: "/w.yml", file: "w.yml", content });
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
}

const defs = `      level:
        type: choice
        options: [low, high]
        default: low
      dry:
        type: boolean
      count:
        type: number
        default: 3
      note:
        description: free text
      target:
        type: environment
        required: true`;

describe("resolveInputs", () => {
  it("applies defaults and GitHub's empty values by type", async () => {
    const r = resolveInputs(await wf(defs), "workflow_dispatch", { target: "prod" });
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({ level: "low", dry: false, count: 3, note: "", target: "prod" });
  });

  it("converts provided booleans and numbers", async () => {
    const r = resolveInputs(await wf(defs), "workflow_dispatch", {
      target: "t",
      dry: "TRUE",
      count: "2.5",
      level: "high",
    });
    expect(r.value).toEqual({ level: "high", dry: true, count: 2.5, note: "", target: "t" });
  });

  it("reports a missing required input with its flag", async () => {
    const r = resolveInputs(await wf(defs), "workflow_dispatch", {});
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        field: "--input target",
        message: expect.stringContaining("required"),
      }),
    ]);
  });

  it("rejects a choice outside the options, a non-boolean and a non-number", async () => {
    const r = resolveInputs(await wf(defs), "workflow_dispatch", {
      target: "t",
      level: "mid",
      dry: "yes",
      count: "many",
    });
    expect(r.diagnostics.map((d) => d.field)).toEqual([
      "--input level",
      "--input dry",
      "--input count",
    ]);
    expect(r.diagnostics[0]!.message).toContain("'low', 'high'");
  });

  it("reports unknown inputs and suggests a differently-cased match", async () => {
    const r = resolveInputs(await wf(defs), "workflow_dispatch", {
      target: "t",
      Level: "low",
      bogus: "1",
    });
    expect(r.diagnostics).toEqual([
      expect.objectContaining({ field: "--input Level", hint: "did you mean 'level'?" }),
      expect.objectContaining({
        field: "--input bogus",
        hint: expect.stringContaining("inputs are: level, dry"),
      }),
    ]);
  });

  it("resolves workflow_call inputs too", async () => {
    const w = await wf(
      "      flag:\n        type: boolean\n        default: true\n      n:\n        type: number",
      "workflow_call",
    );
    expect(resolveInputs(w, "workflow_call", {}).value).toEqual({ flag: true, n: 0 });
  });

  it("reports any input for an event that defines none", async () => {
    const w = await wf(defs);
    const r = resolveInputs(w, "push", { x: "1" });
    expect(r.diagnostics[0]).toMatchObject({
      field: "--input x",
      hint: "the workflow defines no push inputs",
    });
  });
});

import { describe, expect, it } from "vitest";
import { isLiteralToken } from "./is-literal-token.ts";
import { loadWorkflow } from "./load-workflow.ts";

const strategyOf = async (strategy: string) => {
  const content = `on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n${strategy}\n    steps: [{run: echo}]\n`;
  const r = await loadWorkflow({ path: "/w.yml", file: "w.yml", content });
  const token = r.value?.jobs[0]?.strategy;
  if (!token) throw new Error(JSON.stringify(r.diagnostics));
  return token;
};

describe("isLiteralToken", () => {
  it("is true for a matrix written out in full", async () => {
    expect(
      isLiteralToken(
        await strategyOf("      matrix:\n        n: [1, 2]\n        include: [{n: 3, x: y}]"),
      ),
    ).toBe(true);
  });
  it("is false when any value is an expression", async () => {
    expect(
      isLiteralToken(
        await strategyOf("      matrix:\n        n: ${{ fromJSON(needs.a.outputs.n) }}"),
      ),
    ).toBe(false);
    expect(
      isLiteralToken(await strategyOf("      matrix:\n        n: [1, '${{ github.sha }}']")),
    ).toBe(false);
  });
});

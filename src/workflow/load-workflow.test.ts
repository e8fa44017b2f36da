import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBasicExpression, isString } from "@actions/workflow-parser";
import { hasErrors } from "../shared/diagnostic.ts";
import { evaluateTokenToEnv, evaluateTokenToString } from "./evaluate-token.ts";
import { loadWorkflow } from "./load-workflow.ts";

const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");
const load = (content: string) =>
  loadWorkflow({ path: "/repo/.github/workflows/w.yml", file: ".github/workflows/w.yml", content });
const minimal = (jobs: string) => `on: push\njobs:\n${jobs}`;

describe("loadWorkflow", () => {
  it("builds jobs, needs, steps and defaults from a realistic multi-job workflow", async () => {
    const { value, diagnostics } = await load(fixture("ci-multi-job.yml"));
    expect(diagnostics).toEqual([]);
    expect(value?.name).toBe("CI");
    expect(Object.keys(value!.events).sort()).toEqual([
      "pull_request",
      "push",
      "workflow_dispatch",
    ]);
    expect(value?.defaults).toEqual({ shell: "bash", workingDirectory: "app" });
    expect(value?.jobs.map((j) => [j.id, j.needs])).toEqual([
      ["setup", []],
      ["build", ["setup"]],
      ["test", ["setup", "build"]],
    ]);
    const build = value!.jobs[1]!;
    expect(build.defaults).toEqual({ workingDirectory: "app/sub" });
    expect(build.timeoutMinutes && isString(build.timeoutMinutes)).toBe(false);
    expect(build.strategy).toBeDefined();
    expect(build.location).toEqual({ file: ".github/workflows/w.yml", line: 33, col: 3 });
    expect(build.steps.map((s) => s.uses ?? "run")).toEqual([
      "actions/checkout@v4",
      "actions/cache@v4",
      "run",
      "./.github/actions/setup-tool",
    ]);
    const buildStep = build.steps[2]!;
    expect(buildStep.timeoutMinutes).toBeDefined();
    expect(buildStep.continueOnError).toBeDefined();
    expect(buildStep.location.line).toBe(53);
    expect(value!.jobs[2]!.if).toBe("success() && (github.event_name == 'push')");
    expect(value!.jobs[2]!.steps[1]!.if).toBe("failure()");
    expect(value!.jobs[0]!.steps[1]!.id).toBe("m");
    expect(value!.jobs[0]!.steps[1]!.env).toBeDefined();
    expect(value!.jobs[0]!.if).toBe("success()");
  });

  it("rebuilds multi-line run expressions from the YAML value, without the block indentation", async () => {
    const { value } = await load(fixture("ci-multi-job.yml"));
    const run = value!.jobs[1]!.steps[2]!.run!;
    expect(isBasicExpression(run)).toBe(true);
    if (!isBasicExpression(run)) return;
    expect(run.expression).toBe(`format('echo "node {0}"\ncat <<EOF\ndone\nEOF\n', matrix.node)`);
  });

  it("evaluates the loaded tokens end to end: run script, step name, env at three levels", async () => {
    const { value } = await load(fixture("ci-multi-job.yml"));
    const build = value!.jobs[1]!;
    const step = build.steps[2]!;
    const ctx = { matrix: { node: "20", os: "ubuntu-latest" } };
    expect(await evaluateTokenToString(step.run!, ctx)).toBe(
      'echo "node 20"\ncat <<EOF\ndone\nEOF\n',
    );
    expect(await evaluateTokenToString(step.name!, ctx)).toBe("Build on 20");
    expect(await evaluateTokenToString(build.runsOn!, ctx)).toBe("ubuntu-latest");
    const setup = value!.jobs[0]!;
    expect(await evaluateTokenToEnv(value!.env!, {})).toEqual({ WORKFLOW_LEVEL: "top" });
    expect(await evaluateTokenToEnv(setup.env!, {})).toEqual({ JOB_LEVEL: "job" });
    expect(await evaluateTokenToEnv(setup.steps[1]!.env!, {})).toEqual({ STEP_LEVEL: "step" });
  });

  it("keeps quoted single-expression strings evaluable and shows them as written", async () => {
    const { value } = await load(
      minimal('  a:\n    runs-on: x\n    steps:\n      - run: "${{ matrix.cmd }}"\n'),
    );
    const run = value!.jobs[0]!.steps[0]!.run!;
    expect(await evaluateTokenToString(run, { matrix: { cmd: "make" } })).toBe("make");
  });

  it("folds multi-line folded scalars with expressions like YAML does", async () => {
    const { value } = await load(
      minimal(
        "  a:\n    runs-on: x\n    steps:\n      - run: >-\n          echo ${{ github.sha }}\n          and more\n",
      ),
    );
    const run = value!.jobs[0]!.steps[0]!.run!;
    expect(isBasicExpression(run) && run.expression).toBe(
      "format('echo {0} and more', github.sha)",
    );
  });

  it("reports an unknown needs with its position and a hint", async () => {
    const { value, diagnostics } = await load(
      minimal("  a:\n    runs-on: x\n    needs: nope\n    steps: [{run: a}]\n"),
    );
    expect(value).toBeUndefined();
    expect(diagnostics).toContainEqual(
      expect.objectContaining({
        severity: "error",
        file: ".github/workflows/w.yml",
        line: 5,
        col: 12,
        hint: expect.stringContaining("nope"),
      }),
    );
  });

  it("reports an unknown needs reported by the converter directly", async () => {
    const { diagnostics } = await load(
      minimal(
        "  r:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    runs-on: x\n    needs: [r, nope]\n    steps: [{run: a}]\n",
      ),
    );
    expect(diagnostics).toEqual([
      expect.objectContaining({
        line: 8,
        col: 16,
        message: expect.stringContaining("unknown job 'nope'"),
        hint: expect.stringContaining("nope"),
      }),
    ]);
  });

  it("names the whole cycle when jobs need each other", async () => {
    const { diagnostics } = await load(
      minimal(
        "  r:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    needs: [r, c]\n    runs-on: x\n    steps: [{run: a}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: a}]\n  c:\n    needs: b\n    runs-on: x\n    steps: [{run: a}]\n",
      ),
    );
    expect(hasErrors(diagnostics)).toBe(true);
    expect(diagnostics.every((d) => d.message.includes("cycle"))).toBe(true);
    expect(diagnostics[0]!.hint).toMatch(/a → c → b → a|b → a → c → b|c → b → a → c/);
  });

  it("names the cycle when every job has needs", async () => {
    const { diagnostics } = await load(
      minimal(
        "  a:\n    needs: b\n    runs-on: x\n    steps: [{run: a}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: a}]\n",
      ),
    );
    expect(diagnostics.some((d) => d.hint?.includes("a → b → a"))).toBe(true);
  });

  it("reports YAML syntax errors with line and column and no source excerpt", async () => {
    const { value, diagnostics } = await load("on: [push\njobs: {}\n");
    expect(value).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({
      severity: "error",
      line: expect.any(Number),
      col: expect.any(Number),
    });
    expect(diagnostics[0]!.message).not.toContain("\n");
    expect(diagnostics[0]!.hint).toContain("YAML");
  });

  it("reports schema errors such as a misspelled key with a hint", async () => {
    const { diagnostics } = await load(minimal("  a:\n    runs-on: x\n    stepz: [{run: a}]\n"));
    const d = diagnostics.find((x) => x.message.includes("stepz"));
    expect(d).toMatchObject({ line: 5, col: 5, hint: expect.stringContaining("spelling") });
  });

  it("reads `on` as the string key, never as a boolean", async () => {
    const { value } = await load(
      "on:\n  push:\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n",
    );
    expect(value?.events).toHaveProperty("push");
  });

  it("rejects YAML 1.1 documents where `on` would become true", async () => {
    const { value, diagnostics } = await load(
      "%YAML 1.1\n---\n" + minimal("  a:\n    runs-on: x\n    steps: [{run: a}]\n"),
    );
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toContain("YAML 1.1");
  });

  it("rejects non-string keys instead of crashing the parser", async () => {
    const { value, diagnostics } = await load(
      minimal("  a:\n    runs-on: x\n    env:\n      1: one\n    steps: [{run: a}]\n"),
    );
    expect(value).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({
      line: 6,
      col: 7,
      message: expect.stringContaining("not a string"),
    });
  });

  it("reports reusable workflow jobs as not supported yet", async () => {
    const { value, diagnostics } = await load(
      minimal("  a:\n    uses: ./.github/workflows/other.yml\n"),
    );
    expect(value?.jobs[0]?.uses).toBe("./.github/workflows/other.yml");
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: "error",
        line: 4,
        col: 11,
        message: expect.stringContaining("not supported yet"),
      }),
    ]);
  });

  it("reports container:, services: and docker:// steps as unsupported", async () => {
    const { diagnostics } = await load(
      minimal(
        "  a:\n    runs-on: x\n    container: node:20\n    services:\n      db:\n        image: postgres\n    steps:\n      - uses: docker://alpine:3\n",
      ),
    );
    expect(
      diagnostics.map((d) => [d.line, d.message.match(/container:|services:|Docker/)?.[0]]),
    ).toEqual([
      [5, "container:"],
      [7, "services:"],
      [10, "Docker"],
    ]);
    expect(diagnostics.every((d) => d.message.includes("sandbox"))).toBe(true);
  });

  it("uses the file path as the name when name: is absent", async () => {
    const { value } = await load(minimal("  a:\n    runs-on: x\n    steps: [{run: a}]\n"));
    expect(value?.name).toBe(".github/workflows/w.yml");
  });
});

describe("loadWorkflow on hostile input", () => {
  it("refuses files above the size cap before parsing", async () => {
    const big = minimal(
      "  a:\n    runs-on: x\n    steps:\n      - run: " + "x".repeat(1_100_000) + "\n",
    );
    const { value, diagnostics } = await load(big);
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/at most 1048576 bytes/);
  });

  it("stops an alias bomb quickly with a diagnostic", async () => {
    let bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < 12; i++)
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]\n`;
    const t = Date.now();
    const { value, diagnostics } = await load(
      bomb + minimal("  a:\n    runs-on: x\n    steps: [{run: a}]\n"),
    );
    expect(Date.now() - t).toBeLessThan(2000);
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/expands to more than/);
  });

  it("rejects 10k-deep flow nesting without overflowing the stack", async () => {
    const { value, diagnostics } = await load(
      "x: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n" + minimal(""),
    );
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/nesting/);
  });

  it("rejects 10k-deep block sequences quickly", async () => {
    const t = Date.now();
    const { value, diagnostics } = await load("on: push\nx:\n" + "- ".repeat(10_000) + "x\n");
    expect(Date.now() - t).toBeLessThan(5000);
    expect(value).toBeUndefined();
    expect(hasErrors(diagnostics)).toBe(true);
  });

  it("rejects deep block nesting beyond the depth cap", async () => {
    let deep = "";
    for (let i = 0; i < 300; i++) deep += " ".repeat(i) + "k:\n";
    const { value, diagnostics } = await load("on: push\nx:\n" + deep.replace(/^/gm, " "));
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/deeper than 100/);
  });

  it("rejects a !!binary scalar instead of crashing", async () => {
    const { value, diagnostics } = await load("on: push\njobs: !!binary aGVsbG8=\n");
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/binary/);
  });

  it("rejects negative, zero and absurd literal timeout-minutes but accepts expressions", async () => {
    const { diagnostics } = await load(
      minimal(
        "  a:\n    runs-on: x\n    timeout-minutes: -1\n    steps:\n      - run: a\n        timeout-minutes: 1e9\n      - run: b\n        timeout-minutes: ${{ inputs.t }}\n      - run: c\n        timeout-minutes: 0\n",
      ),
    );
    expect(diagnostics.map((d) => [d.line, d.message.match(/not (\S+)/)?.[1]])).toEqual([
      [5, "-1"],
      [8, "1000000000"],
      [12, "0"],
    ]);
  });

  it("reports duplicate job ids", async () => {
    const { diagnostics } = await load(
      minimal(
        "  a:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    runs-on: y\n    steps: [{run: a}]\n",
      ),
    );
    expect(diagnostics[0]).toMatchObject({
      line: 6,
      message: expect.stringContaining("already defined"),
    });
  });
});

describe("loadWorkflow fuzzing", () => {
  it("never throws on odd documents and always explains a missing value", async () => {
    for (const content of [
      "",
      "null",
      "[]",
      "42",
      "on: push",
      "jobs: {}",
      "on: push\njobs:\n",
      "---\n---\n",
      "on: push\njobs:\n  a: 1\n",
    ]) {
      const r = await load(content);
      expect(r.value === undefined ? hasErrors(r.diagnostics) : true).toBe(true);
    }
  });

  it("never throws on random YAML-like text", async () => {
    const alphabet = fc.constantFrom(
      ..."on:jobs-steps run uses ${{}}[]{}&*!|>'\"#\n  \t-?:,1x".split(""),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 200 }).map((a) => a.join("")),
        async (content) => {
          const r = await load(content);
          expect(r.value === undefined ? hasErrors(r.diagnostics) : true).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws when the realistic fixture is mutated", async () => {
    const base = fixture("ci-multi-job.yml");
    await fc.assert(
      fc.asyncProperty(
        fc.nat(base.length),
        fc.nat(base.length),
        fc.string({ maxLength: 8 }),
        async (at, cut, insert) => {
          const content =
            base.slice(0, at) + insert + base.slice(Math.min(base.length, at + (cut % 10)));
          const r = await load(content);
          for (const d of r.diagnostics) expect(d.file).toBe(".github/workflows/w.yml");
        },
      ),
      { numRuns: 200 },
    );
  });
});

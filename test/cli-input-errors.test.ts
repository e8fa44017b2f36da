import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, makeRepo, runCli } from "./support/cli.ts";

// Bad input must give a clear message saying what and where, exit code 2, and store nothing.
describe("actvm run rejects bad input", () => {
  let home: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    home = await makeHome();
    dirs.push(home);
  });
  afterAll(async () => cleanup(...dirs));

  const attempt = async (workflow: string | undefined, args: string[] = []) => {
    const repo = await makeRepo(
      workflow === undefined ? { "README.md": "x\n" } : { ".github/workflows/ci.yml": workflow },
    );
    dirs.push(repo);
    const r = await runCli(["run", "--backend", "host", ...args], { cwd: repo, home });
    // Nothing is recorded for a rejected run.
    expect(existsSync(path.join(home, ".actvm", "actvm.db"))).toBe(false);
    return r;
  };

  it("reports invalid YAML with file:line:col", async () => {
    const r = await attempt("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.github\/workflows\/ci\.yml:\d+:\d+: error:/);
  });

  it("reports an unknown key with its position", async () => {
    const r = await attempt(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n        bogus: 1\n",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ci\.yml:7:9: error: .*bogus/);
  });

  it("reports a malformed expression", async () => {
    const r = await attempt(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ github.sha == }}\n",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ci\.yml:6:\d+: error:/);
  });

  it("reports cyclic needs", async () => {
    const r = await attempt(
      "on: push\njobs:\n  a:\n    needs: b\n    runs-on: x\n    steps: [{run: echo}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo}]\n",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cycl/i);
  });

  it("reports a matrix over 256 legs before running anything", async () => {
    const values = Array.from({ length: 17 }, (_, i) => i).join(", ");
    const r = await attempt(
      `on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        x: [${values}]\n        y: [${values}]\n    steps: [{run: echo}]\n`,
    );
    // 17 × 17 = 289 legs: a literal matrix is checked while planning.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/289/);
    expect(r.stderr).toMatch(/256/);
  });

  it("reports an unreadable event file", async () => {
    const r = await attempt("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n", [
      "-e",
      "/nonexistent/event.json",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/nonexistent/event.json");
  });

  it("reports an unknown flag", async () => {
    const r = await attempt(undefined, ["--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it("reports a malformed --secret without echoing its value", async () => {
    const r = await attempt("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n", [
      "-s",
      "bad key=supersecret",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-s/--secret");
    expect(r.stderr).not.toContain("supersecret");
  });

  it("reports an unknown --input for workflow_dispatch", async () => {
    const r = await attempt(
      "on:\n  workflow_dispatch:\n    inputs:\n      level: { type: choice, options: [low, high], default: low }\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n",
      ["workflow_dispatch", "--input", "nope=1"],
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nope");
  });

  it("reports a directory that is not a git repository", async () => {
    const r = await runCli(["run", "-C", "/", "--backend", "host"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/git/i);
  });
});

import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, makeRepo, runCli } from "./support/cli.ts";

const WORKFLOWS = {
  ".github/workflows/ci.yml": `
name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo lint-ran
  test:
    needs: lint
    runs-on: ubuntu-latest
    steps:
      - run: echo test-ran
  deploy:
    needs: [test]
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy-ran
`,
  ".github/workflows/release.yml": `
name: Release
on:
  push:
    tags: ["v*"]
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [patch, minor, major]
        default: patch
      dry:
        type: boolean
        default: true
      count:
        type: number
        default: 3
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: echo "level=\${{ inputs.level }} dry=\${{ inputs.dry }} count=\${{ inputs.count }} type=\${{ github.event.inputs.level }}"
`,
};

describe("actvm CLI commands", () => {
  let home: string;
  let repo: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    home = await makeHome();
    repo = await makeRepo(WORKFLOWS);
    dirs.push(home, repo);
  });
  afterAll(async () => cleanup(...dirs));

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { cwd: repo, home, env });

  it("lists the jobs a push would run, by stage (-l)", async () => {
    const r = await cli(["run", "-l"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0\s+lint\s+CI/);
    expect(r.stdout).toMatch(/1\s+test\s+CI/);
    expect(r.stdout).toMatch(/2\s+deploy\s+CI/);
    expect(r.stdout).not.toMatch(/release\s+Release/);
  });

  it("draws the job graph (-g)", async () => {
    const r = await cli(["run", "-g"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[test] ← lint");
  });

  it("runs only the selected job and what it needs (-j)", async () => {
    const r = await cli(["run", "-j", "test", "--backend", "host", "--plain"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("lint-ran");
    expect(r.stdout).toContain("test-ran");
    expect(r.stdout).not.toContain("deploy-ran");
  });

  it("types workflow_dispatch inputs from their declarations", async () => {
    const r = await cli([
      "run",
      "workflow_dispatch",
      "--input",
      "level=major",
      "--input",
      "dry=false",
      "--backend",
      "host",
      "--plain",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("level=major dry=false count=3 type=major");
  });

  it("rejects a choice input outside its options", async () => {
    const r = await cli(["run", "workflow_dispatch", "--input", "level=huge", "--backend", "host"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("huge");
  });

  it("applies on: filters to the event (-e payload on a tag push runs Release only)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "actvm-ev-"));
    dirs.push(dir);
    const ev = path.join(dir, "tag.json");
    await writeFile(ev, JSON.stringify({ ref: "refs/tags/v1.0.0" }));
    const r = await cli(["run", "push", "-e", ev, "-l"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/release\s+Release/);
    expect(r.stdout).not.toMatch(/lint\s+CI/);
  });

  it("shows the plan in the seed's ParsedWorkflow shape", async () => {
    const r = await cli(["plan", "--format", "seed", "-j", "lint"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Array<{
      job: string;
      workflow: { name: string; steps: Array<{ command: string; timeout_seconds: number }> };
    }>;
    const lint = plan.find((p) => p.job === "lint");
    expect(lint?.workflow.name).toBe("CI");
    expect(lint?.workflow.steps[0]?.command).toBe("echo lint-ran");
    expect(lint?.workflow.steps[0]?.timeout_seconds).toBe(360 * 60);
  });

  it("records runs: `runs` lists them and `logs` replays a job", async () => {
    const r = await cli(["run", "-j", "lint", "--backend", "host", "--plain"]);
    expect(r.code).toBe(0);
    const runs = await cli(["runs", "--json"]);
    expect(runs.code).toBe(0);
    const list = JSON.parse(runs.stdout) as Array<{
      id: string;
      workflow: string;
      result: string;
      runNumber: number;
    }>;
    expect(list.length).toBeGreaterThanOrEqual(1);
    const latest = list[0]!;
    expect(latest.workflow).toBe("CI");
    expect(latest.result).toBe("success");
    const logs = await cli(["logs", latest.id.slice(0, 12), "lint"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("lint-ran");
    const missing = await cli(["logs", "r_doesnotexist"]);
    expect(missing.code).toBe(2);
  });

  it("does not run a workflow whose branch filter excludes the branch", async () => {
    const other = await makeRepo({
      ".github/workflows/ci.yml": WORKFLOWS[".github/workflows/ci.yml"],
    });
    dirs.push(other);
    execFileSync("git", ["checkout", "-q", "-b", "feature"], { cwd: other });
    const r = await runCli(["run", "-l"], { cwd: other, home });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/lint\s+CI/);
    expect(r.stdout).toContain("not run");
  });

  it("fetches a remote action by git from the configured base URL and caches it", async () => {
    const remotes = await mkdtemp(path.join(os.tmpdir(), "actvm-remotes-"));
    dirs.push(remotes);
    const src = path.join(remotes, "src");
    await mkdir(src, { recursive: true });
    await writeFile(
      path.join(src, "action.yml"),
      'name: hello\ninputs:\n  who: { default: remote }\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo "remote action says hi to ${{ inputs.who }}"\n',
    );
    const git = (cwd: string, ...args: string[]) =>
      execFileSync("git", args, { cwd, stdio: "pipe" });
    git(src, "init", "-q", "-b", "main");
    git(src, "-c", "user.name=a", "-c", "user.email=a@b.invalid", "add", "-A");
    git(src, "-c", "user.name=a", "-c", "user.email=a@b.invalid", "commit", "-q", "-m", "v1");
    git(src, "tag", "v1");
    await mkdir(path.join(remotes, "acme"), { recursive: true });
    git(remotes, "clone", "-q", "--bare", src, path.join(remotes, "acme", "hello.git"));
    git(remotes, "clone", "-q", "--bare", src, path.join(remotes, "acme", "hello"));
    const wf = await makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/hello@v1\n        with: { who: actvm }\n",
    });
    dirs.push(wf);
    const env = { ACTVM_ACTIONS_URL: `file://${remotes}` };
    const r = await runCli(["run", "--backend", "host", "--plain"], { cwd: wf, home, env });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("remote action says hi to actvm");
  });
});

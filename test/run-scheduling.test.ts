import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, makeRepo, runCli } from "./support/cli.ts";

// Job scheduling and CLI inputs; the sandbox does not matter here, so these run on `host`.
describe("job scheduling and run inputs", () => {
  let home: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    home = await makeHome();
    dirs.push(home);
  });
  afterAll(async () => cleanup(...dirs));

  const run = async (workflow: string, args: string[] = [], env: Record<string, string> = {}) => {
    const repo = await makeRepo({ ".github/workflows/ci.yml": workflow });
    dirs.push(repo);
    return runCli(["run", "--backend", "host", "--plain", ...args], { cwd: repo, home, env });
  };

  it("builds a matrix from a needed job's output with fromJSON", async () => {
    const r = await run(`
on: push
jobs:
  plan:
    runs-on: x
    outputs:
      targets: \${{ steps.t.outputs.list }}
    steps:
      - id: t
        run: echo 'list=["alpha","beta","gamma"]' >> "$GITHUB_OUTPUT"
  build:
    needs: plan
    runs-on: x
    strategy:
      matrix:
        target: \${{ fromJSON(needs.plan.outputs.targets) }}
    steps:
      - run: echo "building \${{ matrix.target }}"
`);
    expect(r.code).toBe(0);
    for (const t of ["alpha", "beta", "gamma"]) expect(r.stdout).toContain(`building ${t}`);
  });

  it("runs legs one at a time under max-parallel: 1", async () => {
    const r = await run(
      `
on: push
jobs:
  m:
    runs-on: x
    strategy:
      max-parallel: 1
      matrix:
        n: [1, 2, 3]
    steps:
      - run: |
          echo "begin \${{ matrix.n }}"
          sleep 0.3
          echo "end \${{ matrix.n }}"
`,
      ["--max-parallel", "4"],
    );
    expect(r.code).toBe(0);
    const events = [...r.stdout.matchAll(/(begin|end) (\d)/g)].map((m) => `${m[1]}${m[2]}`);
    // Each leg ends before the next begins.
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]?.startsWith("begin")).toBe(true);
      expect(events[i + 1]).toBe(`end${events[i]?.slice(5)}`);
    }
    expect(events).toHaveLength(6);
  });

  it("does not fail the run for a job with continue-on-error", async () => {
    const r = await run(`
on: push
jobs:
  optional:
    runs-on: x
    continue-on-error: true
    steps:
      - run: exit 1
  after:
    needs: optional
    runs-on: x
    steps:
      - run: echo "after ran, optional was \${{ needs.optional.result }}"
`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("after ran, optional was success");
  });

  it("fails a job that exceeds its timeout-minutes and runs its always() steps", async () => {
    const r = await run(
      `
on: push
jobs:
  slow:
    runs-on: x
    timeout-minutes: 0.05
    steps:
      - run: sleep 60
      - if: always()
        run: echo "cleanup after job timeout"
`,
      [],
      { ACTVM_KILL_GRACE_MS: "300" },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("cleanup after job timeout");
    expect(r.stdout).toMatch(/exceeded the maximum execution time of 0\.05 minutes/);
  }, 60_000);

  it("runs only the legs selected with --matrix", async () => {
    const r = await run(
      `
on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix:
        node: [18, 20, 22]
    steps:
      - run: echo "leg \${{ matrix.node }}"
`,
      ["--matrix", "node:20"],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("leg 20");
    expect(r.stdout).not.toContain("leg 18");
    expect(r.stdout).not.toContain("leg 22");
  });

  it("reads secrets, vars and env from files, and prints JSON events with --json", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "actvm-files-"));
    dirs.push(dir);
    await writeFile(path.join(dir, "s.env"), "DEPLOY_KEY=file-secret-123\n");
    await writeFile(path.join(dir, "v.env"), "REGION=eu-west\n");
    await writeFile(path.join(dir, "e.env"), "FROM_ENV_FILE=yes\n");
    const r = await run(
      `
on: push
jobs:
  t:
    runs-on: x
    steps:
      - run: echo "region=\${{ vars.REGION }} env=$FROM_ENV_FILE key=\${{ secrets.DEPLOY_KEY }}"
`,
      [
        "--secret-file",
        path.join(dir, "s.env"),
        "--var-file",
        path.join(dir, "v.env"),
        "--env-file",
        path.join(dir, "e.env"),
        "--json",
      ],
    );
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; text?: string; result?: string });
    expect(events[0]?.type).toBe("run.started");
    expect(events.at(-1)).toMatchObject({ type: "run.completed", result: "success" });
    const out = events.filter((e) => e.type === "step.output").map((e) => e.text);
    expect(out).toContain("region=eu-west env=yes key=***");
    expect(r.stdout).not.toContain("file-secret-123");
  });

  it("shows ::debug:: lines only with -v", async () => {
    const wf = `
on: push
jobs:
  t:
    runs-on: x
    steps:
      - run: echo "::debug::deep detail"
`;
    const quiet = await run(wf);
    // The step's name shows the command; the debug line itself is a log line `[t]   deep detail`.
    expect(quiet.stdout).not.toMatch(/^\[t\]\s+deep detail$/m);
    const verbose = await run(wf, ["-v"]);
    expect(verbose.stdout).toMatch(/^\[t\]\s+deep detail$/m);
  });
});

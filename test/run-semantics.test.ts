import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendsUnderTest, cleanup, makeHome, makeRepo, runCli } from "./support/cli.ts";

// The workflow semantics suite: each case is a real workflow run through the real CLI on every
// sandbox backend available here. The same suite is meant to pass unchanged on VM backends.
const backends = backendsUnderTest();

describe.each(backends)("workflow semantics on %s", (backend) => {
  let home: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    home = await makeHome();
    dirs.push(home);
  });
  afterAll(async () => {
    await cleanup(...dirs);
  });

  const run = async (
    files: Record<string, string>,
    args: string[] = [],
    env: Record<string, string> = {},
  ) => {
    const repo = await makeRepo(files);
    dirs.push(repo);
    const res = await runCli(["run", ...args, "--backend", backend, "--plain"], {
      cwd: repo,
      home,
      env,
    });
    return { ...res, repo };
  };

  it("runs steps in order, passes env at three levels and sets GitHub's default variables", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
name: CI
on: push
env: { LEVEL: workflow, W: w }
jobs:
  build:
    runs-on: ubuntu-latest
    env: { LEVEL: job, J: j }
    steps:
      - run: echo "level=$LEVEL w=$W j=$J"
      - env: { LEVEL: step }
        run: echo "level=$LEVEL"
      - run: |
          echo "ci=$CI actions=$GITHUB_ACTIONS event=$GITHUB_EVENT_NAME ref=$GITHUB_REF job=$GITHUB_JOB"
          test -f "$GITHUB_WORKSPACE/.github/workflows/ci.yml" && echo "workspace has the repo"
          test -s "$GITHUB_EVENT_PATH" && echo "event file present"
      - run: echo "expr=\${{ github.event_name }}-\${{ env.LEVEL }}-\${{ runner.os }}"
`,
    });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("level=job w=w j=j");
    expect(r.stdout).toContain("level=step");
    expect(r.stdout).toContain("ci=true actions=true event=push ref=refs/heads/main job=build");
    expect(r.stdout).toContain("workspace has the repo");
    expect(r.stdout).toContain("event file present");
    expect(r.stdout).toContain("expr=push-job-Linux");
  });

  it("fails the run with exit 1 and still runs failure() and always() steps", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - id: bad
        run: exit 3
      - run: echo never-runs
      - if: failure()
        run: echo "failure-handler outcome=\${{ steps.bad.outcome }}"
      - if: always()
        run: echo always-runs
`,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("never-runs");
    expect(r.stdout).toContain("failure-handler outcome=failure");
    expect(r.stdout).toContain("always-runs");
  });

  it("distinguishes outcome and conclusion under continue-on-error", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - id: flaky
        continue-on-error: true
        run: exit 1
      - run: echo "outcome=\${{ steps.flaky.outcome }} conclusion=\${{ steps.flaky.conclusion }}"
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("outcome=failure conclusion=success");
  });

  it("passes job outputs through needs and skips dependents of a failed job", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  produce:
    runs-on: ubuntu-latest
    outputs:
      version: \${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"
  consume:
    needs: produce
    runs-on: ubuntu-latest
    steps:
      - run: echo "got \${{ needs.produce.outputs.version }} result=\${{ needs.produce.result }}"
  broken:
    runs-on: ubuntu-latest
    steps:
      - run: "false"
  after-broken:
    needs: broken
    runs-on: ubuntu-latest
    steps:
      - run: echo should-not-run
  report:
    needs: [broken]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "broken was \${{ needs.broken.result }}"
`,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("got 1.2.3 result=success");
    expect(r.stdout).not.toContain("should-not-run");
    expect(r.stdout).toContain("broken was failure");
    expect(r.stdout).toMatch(/after-broken\s+skipped/);
  });

  it("expands a matrix with include and exclude and names the legs", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [linux, mac]
        node: [18, 20]
        exclude:
          - os: mac
            node: 18
        include:
          - os: linux
            node: 20
            extra: yes
          - os: bsd
            node: 22
    steps:
      - run: echo "leg os=\${{ matrix.os }} node=\${{ matrix.node }} extra=\${{ matrix.extra }} index=\${{ strategy.job-index }}/\${{ strategy.job-total }}"
`,
    });
    expect(r.code).toBe(0);
    const legs = r.stdout.match(/leg os=\S+ node=\S+ extra=\S* index=\d+\/\d+/g) ?? [];
    expect(new Set(legs)).toEqual(
      new Set([
        "leg os=linux node=18 extra= index=0/4",
        "leg os=linux node=20 extra=yes index=1/4",
        "leg os=mac node=20 extra= index=2/4",
        "leg os=bsd node=22 extra= index=3/4",
      ]),
    );
    expect(r.stdout).toContain("test (linux, 20, yes)");
  });

  it("cancels the other legs when one fails under fail-fast", async () => {
    const r = await run(
      {
        ".github/workflows/ci.yml": `
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: |
          if [ "\${{ matrix.n }}" = 1 ]; then sleep 1; exit 1; fi
          sleep 30
          echo leg-two-finished
`,
      },
      ["--max-parallel", "2"],
    );
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("leg-two-finished");
    expect(r.stdout).toMatch(/m \(2\)\s+cancelled/);
  }, 60_000);

  it("applies GITHUB_ENV (with heredocs), GITHUB_PATH and GITHUB_STEP_SUMMARY to later steps", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "SIMPLE=one" >> "$GITHUB_ENV"
          {
            echo "MULTI<<EOF_MARK"
            echo "line a"
            echo "line b"
            echo "EOF_MARK"
          } >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\\necho tool-from-path\\n' > "$RUNNER_TEMP/bin/mytool"
          chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "### Hello summary" >> "$GITHUB_STEP_SUMMARY"
      - run: |
          echo "simple=$SIMPLE"
          echo "multi=$(echo "$MULTI" | tr '\\n' '+')"
          mytool
          echo "env-expr=\${{ env.SIMPLE }}"
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("simple=one");
    expect(r.stdout).toContain("multi=line a+line b+");
    expect(r.stdout).toContain("tool-from-path");
    expect(r.stdout).toContain("env-expr=one");
    expect(r.stdout).toContain("### Hello summary");
  });

  it("fails a step for what GitHub refuses: a broken heredoc, NODE_OPTIONS, ::set-env", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - id: heredoc
        continue-on-error: true
        run: printf 'val<<END\\nno end here\\n' >> "$GITHUB_OUTPUT"
      - id: nodeopts
        continue-on-error: true
        run: echo "NODE_OPTIONS=--require /tmp/evil.js" >> "$GITHUB_ENV"
      - id: setenv
        continue-on-error: true
        run: echo "::set-env name=INJECTED::yes"
      - run: |
          echo "outcomes \${{ steps.heredoc.outcome }} \${{ steps.nodeopts.outcome }} \${{ steps.setenv.outcome }}"
          echo "node_options=[\${NODE_OPTIONS:-}] injected=[\${INJECTED:-}]"
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("outcomes failure failure failure");
    expect(r.stdout).toContain("node_options=[] injected=[]");
  });

  it("honours defaults.run, working-directory and the built-in shells", async () => {
    const r = await run({
      "sub/dir/marker.txt": "x\n",
      ".github/workflows/ci.yml": `
on: push
defaults:
  run:
    shell: sh
    working-directory: sub
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: echo "pwd=$(basename "$PWD") shell=$0"
      - working-directory: sub/dir
        run: cat marker.txt
      - shell: bash
        run: set -o | grep -q 'pipefail.*on' && echo bash-pipefail-on
      - shell: python
        run: print("python says", 6 * 7)
      - shell: perl -e 'print "custom shell ran\\n"' {0}
        run: ignored
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pwd=sub shell=\S+\.sh/);
    expect(r.stdout).toMatch(/^\[t\]\s+x$/m);
    expect(r.stdout).toContain("bash-pipefail-on");
    expect(r.stdout).toContain("python says 42");
    expect(r.stdout).toContain("custom shell ran");
  });

  it("masks secrets, add-mask values and their encodings, also when split across writes", async () => {
    const r = await run(
      {
        ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - env:
          TOKEN: \${{ secrets.API_TOKEN }}
        run: |
          echo "plain $TOKEN"
          printf 'split s3cr'; sleep 0.3; printf 'et-value-42 end\\n'
          echo "b64 $(printf %s "$TOKEN" | base64)"
          echo "::add-mask::dynamic-mask-value"
          echo "later dynamic-mask-value"
`,
      },
      ["-s", "API_TOKEN=s3cret-value-42"],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("s3cret-value-42");
    expect(r.stdout).not.toContain(Buffer.from("s3cret-value-42").toString("base64"));
    expect(r.stdout).not.toContain("dynamic-mask-value");
    expect(r.stdout).toContain("plain ***");
    expect(r.stdout).toContain("split *** end");
    expect(r.stdout).toContain("later ***");
    const runId = /run (r_\S+)/.exec(r.stdout)?.[1];
    expect(runId).toBeDefined();
    const logs = await runCli(["logs", runId!], { cwd: r.repo, home });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("plain ***");
    expect(logs.stdout).not.toContain("s3cret-value-42");
    expect(logs.stdout).not.toContain("dynamic-mask-value");
  });

  it("turns ::error:: commands into annotations and honours stop-commands", async () => {
    const r = await run({
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "::error file=src/app.ts,line=12,col=4::Something broke"
          echo "::group::Details"
          echo "inside group"
          echo "::endgroup::"
          echo "::stop-commands::pause-token-1"
          echo "::error::not a command while stopped"
          echo "::pause-token-1::"
          echo "::warning::back on"
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/error: src\/app\.ts:12:4: Something broke/);
    expect(r.stdout).toContain("::error::not a command while stopped");
    expect(r.stdout).toMatch(/warning: back on/);
    expect(r.stdout).toContain("inside group");
  });

  it("kills a step that exceeds timeout-minutes, fails it, and still runs always() steps", async () => {
    const r = await run(
      {
        ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - timeout-minutes: 0.05
        run: |
          trap 'echo got-int' INT
          trap 'echo got-term' TERM
          while true; do sleep 0.1; done
      - if: always()
        run: echo cleanup-ran
`,
      },
      [],
      { ACTVM_KILL_GRACE_MS: "500" },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("cleanup-ran");
    expect(r.stdout).toMatch(/timeout-minutes/);
  }, 60_000);

  it("runs local composite actions (nested, with inputs and outputs) and JavaScript actions", async () => {
    const r = await run({
      ".github/actions/greet/action.yml": `
name: greet
inputs:
  who:
    required: true
  punctuation:
    default: "!"
outputs:
  greeting:
    value: \${{ steps.say.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: echo "text=hello \${{ inputs.who }}\${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
    - uses: ./.github/actions/inner
      with:
        msg: nested-\${{ inputs.who }}
`,
      ".github/actions/inner/action.yml": `
name: inner
inputs:
  msg: { required: true }
runs:
  using: composite
  steps:
    - shell: sh
      run: echo "inner says \${{ inputs.msg }} from $GITHUB_ACTION_PATH" | sed 's#/.*/#/#'
`,
      ".github/actions/js/action.yml": `
name: js
inputs:
  name: { default: world }
runs:
  using: node20
  pre: pre.js
  main: index.js
  post: post.js
`,
      ".github/actions/js/pre.js": `
require("fs").appendFileSync(process.env.GITHUB_STATE, "from_pre=early\\n");
console.log("pre step for " + process.env.INPUT_NAME);
`,
      ".github/actions/js/index.js": `
const fs = require("fs");
const name = process.env.INPUT_NAME;
console.log("js action greets " + name + " after pre=" + process.env.STATE_from_pre);
fs.appendFileSync(process.env.GITHUB_OUTPUT, "echoed=" + name + "\\n");
fs.appendFileSync(process.env.GITHUB_STATE, "started=yes\\n");
`,
      ".github/actions/js/post.js": `console.log("post step state=" + process.env.STATE_started + " pre=" + process.env.STATE_from_pre);`,
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: g
        uses: ./.github/actions/greet
        with:
          who: octocat
      - run: echo "composite output=\${{ steps.g.outputs.greeting }}"
      - id: js
        uses: ./.github/actions/js
        with:
          name: actvm
      - run: echo "js output=\${{ steps.js.outputs.echoed }}"
`,
    });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("composite output=hello octocat!");
    expect(r.stdout).toContain("inner says nested-octocat");
    expect(r.stdout).toContain("pre step for actvm");
    expect(r.stdout.indexOf("pre step for actvm")).toBeLessThan(
      r.stdout.indexOf("composite output="),
    );
    expect(r.stdout).toContain("js action greets actvm after pre=early");
    expect(r.stdout).toContain("js output=actvm");
    expect(r.stdout).toContain("post step state=yes pre=early");
  });

  it("computes hashFiles in the sandbox, empty when nothing matches", async () => {
    const r = await run({
      "package-lock.json": '{"lockfileVersion": 3}\n',
      ".github/workflows/ci.yml": `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "lock=\${{ hashFiles('**/package-lock.json') }}"
          echo "none=[\${{ hashFiles('**/*.nothing') }}]"
`,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lock=[0-9a-f]{64}/);
    expect(r.stdout).toContain("none=[]");
  });
});

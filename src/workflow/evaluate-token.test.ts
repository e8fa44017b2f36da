import { NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import {
  BasicExpressionToken,
  InsertExpressionToken,
  MappingToken,
  NumberToken,
  StringToken,
} from "@actions/workflow-parser/templates/tokens/index";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { describe, expect, it } from "vitest";
import { ActvmError } from "../shared/errors.ts";
import { evaluateToken, evaluateTokenToEnv, evaluateTokenToString } from "./evaluate-token.ts";
import { expandMatrix } from "./expand-matrix.ts";
import type { ExpressionContexts } from "./model.ts";

const FILE = ".github/workflows/ci.yml";

// Line numbers matter: the location tests below refer to them.
const WORKFLOW = `on: push
jobs:
  build:
    strategy:
      fail-fast: false
      matrix:
        node: [18, 20.5]
        flag: [true]
        nothing: [null]
        os: [ubuntu-latest]
    runs-on: [self-hosted, "\${{ matrix.os }}"]
    env:
      PLAIN: hello
      MIXED: "node \${{ matrix.node }} on \${{ matrix.os }}"
      \${{ matrix.key }}: from-key
      NUM: 1.50 # the parser reads a number, so this arrives as "1.5"
    steps:
      - run: echo hi
  dynamic:
    strategy:
      matrix: \${{ fromJSON(needs.setup.outputs.matrix) }}
    runs-on: ubuntu-latest
    env: \${{ fromJSON(needs.setup.outputs.list) }}
    steps:
      - run: echo hi
        env:
          BAD: \${{ fromJSON('not json') }}
`;

function parsed(): TemplateToken {
  const r = parseWorkflow({ name: FILE, content: WORKFLOW }, new NoOperationTraceWriter());
  expect(r.context.errors.getErrors()).toEqual([]);
  if (!r.value) throw new Error("workflow did not parse");
  return r.value;
}

/** Walks mapping keys and sequence indexes down the parsed tree. */
function at(token: TemplateToken, ...path: (string | number)[]): TemplateToken {
  let cur = token;
  for (const step of path) {
    const next =
      typeof step === "number"
        ? (cur as unknown as { get(i: number): TemplateToken }).get(step)
        : (cur as MappingToken).find(step);
    if (!next) throw new Error(`no ${String(step)} in the parsed workflow`);
    cur = next;
  }
  return cur;
}

const ctx: ExpressionContexts = {
  matrix: { node: 20, os: "ubuntu-latest", key: "DYNAMIC_KEY" },
  needs: {
    setup: {
      outputs: {
        matrix: JSON.stringify({
          os: ["ubuntu", "macos"],
          include: [{ os: "windows", exp: true }],
        }),
        list: JSON.stringify(["not", "a", "mapping"]),
      },
    },
  },
};
const opts = { location: { file: FILE, line: 1, col: 1 } };

describe("evaluateToken", () => {
  it("passes literal strings, numbers, booleans and nulls through", async () => {
    const strategy = at(parsed(), "jobs", "build", "strategy");
    expect(await evaluateToken(strategy, ctx, opts)).toEqual({
      "fail-fast": false,
      matrix: { node: [18, 20.5], flag: [true], nothing: [null], os: ["ubuntu-latest"] },
    });
  });

  it("evaluates sequences with expressions inside", async () => {
    const runsOn = at(parsed(), "jobs", "build", "runs-on");
    expect(await evaluateToken(runsOn, ctx, opts)).toEqual(["self-hosted", "ubuntu-latest"]);
  });

  it("evaluates mixed strings and expression keys in mappings", async () => {
    const env = at(parsed(), "jobs", "build", "env");
    expect(await evaluateToken(env, ctx, opts)).toEqual({
      PLAIN: "hello",
      MIXED: "node 20 on ubuntu-latest",
      DYNAMIC_KEY: "from-key",
      NUM: "1.5",
    });
  });

  it("evaluates a whole-value expression to an object that expandMatrix accepts", async () => {
    const strategy = at(parsed(), "jobs", "dynamic", "strategy");
    const value = await evaluateToken(strategy, ctx, opts);
    const expanded = expandMatrix(value);
    expect(expanded.diagnostics).toEqual([]);
    expect(expanded.value?.legs.map((l) => l.values)).toEqual([
      { os: "ubuntu" },
      { os: "macos" },
      { os: "windows", exp: true },
    ]);
  });

  it("merges ${{ insert }} mappings into the parent", async () => {
    const m = new MappingToken(undefined, undefined, undefined);
    m.add(
      new StringToken(undefined, undefined, "A", undefined),
      new StringToken(undefined, undefined, "a", undefined),
    );
    m.add(
      new InsertExpressionToken(undefined, undefined, undefined),
      new BasicExpressionToken(
        undefined,
        undefined,
        'fromJSON(\'{"B":2,"A":"over"}\')',
        undefined,
        undefined,
        undefined,
      ),
    );
    expect(await evaluateToken(m, {}, opts)).toEqual({ A: "over", B: 2 });
  });

  it("rejects ${{ insert }} whose value is not a mapping", async () => {
    const m = new MappingToken(undefined, undefined, undefined);
    m.add(
      new InsertExpressionToken(undefined, undefined, undefined),
      new NumberToken(undefined, undefined, 3, undefined),
    );
    await expect(evaluateToken(m, {}, opts)).rejects.toThrow(/insert.*needs a mapping/);
  });

  it("locates an evaluation error at the token's line and column", async () => {
    const env = at(parsed(), "jobs", "dynamic", "steps", 0, "env");
    const err = await evaluateToken(env, {}, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActvmError);
    expect((err as ActvmError).code).toBe("EXPRESSION");
    expect((err as ActvmError).message).toMatch(
      new RegExp(`${FILE.replaceAll(".", "\\.")}:27:16: .*fromJson`),
    );
  });
});

describe("evaluateTokenToString", () => {
  it("coerces values the way GitHub prints them", async () => {
    const s = (text: string) =>
      new BasicExpressionToken(undefined, undefined, text, undefined, undefined, undefined);
    expect(
      await evaluateTokenToString(new NumberToken(undefined, undefined, 1, undefined), {}),
    ).toBe("1");
    expect(
      await evaluateTokenToString(new NumberToken(undefined, undefined, 1.5, undefined), {}),
    ).toBe("1.5");
    expect(await evaluateTokenToString(s("0.1 == 0.1"), {})).toBe("true");
    expect(await evaluateTokenToString(s("false"), {})).toBe("false");
    expect(await evaluateTokenToString(s("null"), {})).toBe("");
    expect(await evaluateTokenToString(s('fromJSON(\'[1,{"a":"b"}]\')'), {})).toBe(
      JSON.stringify([1, { a: "b" }], null, 2),
    );
    expect(await evaluateTokenToString(s("matrix.os"), ctx)).toBe("ubuntu-latest");
  });
});

describe("evaluateTokenToEnv", () => {
  it("turns an env mapping into strings", async () => {
    const env = at(parsed(), "jobs", "build", "env");
    expect(await evaluateTokenToEnv(env, ctx, opts)).toEqual({
      PLAIN: "hello",
      MIXED: "node 20 on ubuntu-latest",
      DYNAMIC_KEY: "from-key",
      NUM: "1.5",
    });
  });

  it("stringifies numbers and booleans from an expression that yields a mapping", async () => {
    const token = new BasicExpressionToken(
      undefined,
      undefined,
      'fromJSON(\'{"N":2,"F":1.25,"B":true,"Z":null}\')',
      undefined,
      undefined,
      undefined,
    );
    expect(await evaluateTokenToEnv(token, {})).toEqual({ N: "2", F: "1.25", B: "true", Z: "" });
  });

  it("rejects an env that evaluates to something other than a mapping, with its location", async () => {
    const env = at(parsed(), "jobs", "dynamic", "env");
    const err = await evaluateTokenToEnv(env, ctx, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActvmError);
    expect((err as ActvmError).message).toMatch(
      /ci\.yml:23:\d+: env must be a mapping.*a sequence/,
    );
  });
});

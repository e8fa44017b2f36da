import { describe, expect, it } from "vitest";
import { ActvmError } from "../shared/errors.ts";
import { evaluateCondition, evaluateExpression } from "./evaluate-expression.ts";
import type { ExpressionContexts, StatusState } from "./model.ts";

const ctx: ExpressionContexts = {
  github: {
    event_name: "push",
    ref: "refs/heads/main",
    Actor: "Octocat",
    event: { commits: [{ id: "c1" }, { id: "c2" }] },
  },
  matrix: { node: 20, os: "ubuntu-latest", list: ["a", "b", "c"] },
  env: { ZERO: "0" },
};

async function expectExpressionError(p: Promise<unknown>, pattern: RegExp): Promise<ActvmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActvmError);
  const ae = err as ActvmError;
  expect(ae.code).toBe("EXPRESSION");
  expect(ae.message).toMatch(pattern);
  return ae;
}

describe("evaluateExpression", () => {
  it("reads contexts case-insensitively, in both the expression and the data", async () => {
    expect(await evaluateExpression("GitHub.EVENT_NAME", ctx)).toBe("push");
    expect(await evaluateExpression("github.actor", ctx)).toBe("Octocat");
    expect(await evaluateExpression("Matrix['OS']", ctx)).toBe("ubuntu-latest");
  });

  it("gives null for missing properties and contexts instead of failing", async () => {
    expect(await evaluateExpression("github.event.pull_request.head.sha", ctx)).toBeNull();
    expect(await evaluateExpression("needs.build.outputs.version", ctx)).toBeNull();
    expect(await evaluateExpression("secrets.TOKEN || 'none'", ctx)).toBe("none");
  });

  it("returns numbers, booleans, arrays and objects as JSON", async () => {
    expect(await evaluateExpression("matrix.node", ctx)).toBe(20);
    expect(await evaluateExpression("1.5", ctx)).toBe(1.5);
    expect(await evaluateExpression("!matrix.node", ctx)).toBe(false);
    expect(await evaluateExpression("matrix.list", ctx)).toEqual(["a", "b", "c"]);
    expect(await evaluateExpression("github.event.commits.*.id", ctx)).toEqual(["c1", "c2"]);
    expect(await evaluateExpression('fromJSON(\'{"a":{"b":[1,true,null]}}\')', ctx)).toEqual({
      a: { b: [1, true, null] },
    });
  });

  it("formats with positional arguments and escaped braces", async () => {
    expect(await evaluateExpression("format('{0}-{1}-{0}', matrix.os, 1.5)", ctx)).toBe(
      "ubuntu-latest-1.5-ubuntu-latest",
    );
    expect(await evaluateExpression("format('{{literal}} {0}', true)", ctx)).toBe("{literal} true");
  });

  it("joins arrays with a separator or the default comma", async () => {
    expect(await evaluateExpression("join(matrix.list, ' | ')", ctx)).toBe("a | b | c");
    expect(await evaluateExpression("join(matrix.list)", ctx)).toBe("a,b,c");
  });

  it("renders toJSON as pretty-printed JSON", async () => {
    const text = await evaluateExpression("toJSON(github.event)", ctx);
    expect(text).toBe(JSON.stringify({ commits: [{ id: "c1" }, { id: "c2" }] }, null, 2));
  });

  it("finds items in arrays with contains and substrings case-insensitively", async () => {
    expect(await evaluateExpression("contains(matrix.list, 'B')", ctx)).toBe(true);
    expect(await evaluateExpression("contains(matrix.list, 'z')", ctx)).toBe(false);
    expect(
      await evaluateExpression(
        'contains(fromJSON(\'["push","pull_request"]\'), github.event_name)',
        ctx,
      ),
    ).toBe(true);
    expect(await evaluateExpression("contains(github.ref, 'MAIN')", ctx)).toBe(true);
    expect(await evaluateExpression("startsWith(github.ref, 'refs/heads/')", ctx)).toBe(true);
  });

  it("coerces types in comparisons the way GitHub does", async () => {
    expect(await evaluateExpression("'1' == 1", ctx)).toBe(true);
    expect(await evaluateExpression("env.ZERO == 0", ctx)).toBe(true);
    expect(await evaluateExpression("'abc' == 'ABC'", ctx)).toBe(true);
    expect(await evaluateExpression("'a' == 1", ctx)).toBe(false);
    expect(await evaluateExpression("null == 0", ctx)).toBe(true);
    expect(await evaluateExpression("true == 1", ctx)).toBe(true);
    expect(await evaluateExpression("'10' > 9", ctx)).toBe(true);
    expect(await evaluateExpression("matrix.node >= 18 && matrix.node < 22", ctx)).toBe(true);
  });

  it("evaluates case() with its default", async () => {
    expect(
      await evaluateExpression(
        "case(matrix.node == 18, 'old', matrix.node == 20, 'lts', 'new')",
        ctx,
      ),
    ).toBe("lts");
  });

  it("does not reuse a result across different contexts", async () => {
    const expr = "format('node-{0}', matrix.node)";
    expect(await evaluateExpression(expr, { matrix: { node: 18 } })).toBe("node-18");
    expect(await evaluateExpression(expr, { matrix: { node: 22 } })).toBe("node-22");
  });

  describe("status functions", () => {
    const states: StatusState["status"][] = ["success", "failure", "cancelled"];
    for (const state of states) {
      it(`answers success/failure/cancelled/always when the status is ${state}`, async () => {
        const opts = { status: { status: state } };
        expect(await evaluateExpression("success()", {}, opts)).toBe(state === "success");
        expect(await evaluateExpression("failure()", {}, opts)).toBe(state === "failure");
        expect(await evaluateExpression("cancelled()", {}, opts)).toBe(state === "cancelled");
        expect(await evaluateExpression("always()", {}, opts)).toBe(true);
      });
    }

    it("treats a missing status as success", async () => {
      expect(await evaluateExpression("success() && !failure()", {})).toBe(true);
    });
  });

  describe("hashFiles", () => {
    function counter(answers: Record<string, string>) {
      const calls: string[][] = [];
      const hashFiles = async (patterns: string[]): Promise<string> => {
        calls.push(patterns);
        return answers[patterns.join("|")] ?? "";
      };
      return { calls, hashFiles };
    }

    it("asks the resolver once per distinct pattern list and uses the answers", async () => {
      const { calls, hashFiles } = counter({ "**/a.lock": "aaa", "**/b.lock|!x/**": "bbb" });
      const v = await evaluateExpression(
        "format('{0}-{1}-{2}', hashFiles('**/a.lock'), hashFiles('**/b.lock', '!x/**'), hashFiles('**/a.lock'))",
        {},
        { hashFiles },
      );
      expect(v).toBe("aaa-bbb-aaa");
      expect(calls).toEqual([["**/a.lock"], ["**/b.lock", "!x/**"]]);
    });

    it("passes patterns that are themselves computed from contexts", async () => {
      const { calls, hashFiles } = counter({ "node-20/**/package-lock.json": "h20" });
      const v = await evaluateExpression(
        "hashFiles(format('node-{0}/**/package-lock.json', matrix.node))",
        ctx,
        { hashFiles },
      );
      expect(v).toBe("h20");
      expect(calls).toEqual([["node-20/**/package-lock.json"]]);
    });

    it("follows calls that only a previous answer reveals", async () => {
      const { calls, hashFiles } = counter({ a: "ha", b: "hb" });
      const v = await evaluateExpression(
        "hashFiles('a') != '' && hashFiles('b')",
        {},
        {
          hashFiles,
        },
      );
      expect(v).toBe("hb");
      expect(calls).toEqual([["a"], ["b"]]);
    });

    it("fails clearly when hashFiles is called without a resolver", async () => {
      await expectExpressionError(
        evaluateExpression("hashFiles('**/*.lock')", {}),
        /hashFiles\('\*\*\/\*\.lock'\)/,
      );
    });

    it("needs no resolver when the call is never reached", async () => {
      expect(await evaluateExpression("false && hashFiles('x')", {})).toBe(false);
    });

    it("reports a failing resolver as an expression error with its reason", async () => {
      await expectExpressionError(
        evaluateExpression(
          "hashFiles('x')",
          {},
          {
            hashFiles: async () => {
              throw new Error("agent gone");
            },
          },
        ),
        /hashFiles\('x'\) failed: agent gone/,
      );
    });
  });

  describe("errors", () => {
    it("rejects syntax errors", async () => {
      await expectExpressionError(
        evaluateExpression("github.ref ==", ctx),
        /Unexpected end of expression/,
      );
      await expectExpressionError(evaluateExpression("(github.ref", ctx), /expression/i);
    });

    it("rejects unknown functions and contexts with a hint", async () => {
      const fn = await expectExpressionError(
        evaluateExpression("frobnicate(1)", ctx),
        /Unrecognized function: 'frobnicate'/,
      );
      expect(fn.hint).toMatch(/hashFiles/);
      const c = await expectExpressionError(
        evaluateExpression("bogus.value", ctx),
        /Unrecognized named-value: 'bogus'/,
      );
      expect(c.hint).toMatch(/matrix/);
    });

    it("rejects wrong argument counts", async () => {
      await expectExpressionError(evaluateExpression("success(1)", ctx), /Too many parameters/);
      await expectExpressionError(evaluateExpression("hashFiles()", ctx), /Too few parameters/);
    });

    it("rejects expressions longer than 21,000 characters", async () => {
      const long = `'${"x".repeat(21_000)}'`;
      await expectExpressionError(evaluateExpression(long, ctx), /21000/);
      expect(await evaluateExpression(`'${"x".repeat(20_990)}'`, ctx)).toHaveLength(20_990);
    });

    it("rejects an empty expression", async () => {
      await expectExpressionError(evaluateExpression("   ", ctx), /empty/);
    });

    it("reports evaluation failures such as invalid JSON", async () => {
      await expectExpressionError(evaluateExpression("fromJSON('{oops')", ctx), /fromJson.*JSON/i);
      await expectExpressionError(evaluateExpression("format('{1}', 'a')", ctx), /more arguments/);
    });

    it("prefixes messages with the location when one is given", async () => {
      await expectExpressionError(
        evaluateExpression("nope()", ctx, {
          location: { file: ".github/workflows/ci.yml", line: 12, col: 7 },
        }),
        /^expression error: \.github\/workflows\/ci\.yml:12:7: Unrecognized function/,
      );
    });
  });
});

describe("evaluateCondition", () => {
  const ok = { status: { status: "success" } } as const;
  const failed = { status: { status: "failure" } } as const;
  const cancelled = { status: { status: "cancelled" } } as const;

  it("evaluates the parser's wrapped form", async () => {
    const cond = "success() && (github.ref == 'refs/heads/main')";
    expect(await evaluateCondition(cond, ctx, ok)).toBe(true);
    expect(await evaluateCondition(cond, ctx, failed)).toBe(false);
  });

  it("strips a surrounding ${{ }}", async () => {
    expect(await evaluateCondition("${{ github.event_name == 'push' }}", ctx, ok)).toBe(true);
    expect(await evaluateCondition("  ${{ github.event_name == 'pull_request' }} ", ctx, ok)).toBe(
      false,
    );
  });

  it("keeps '}}' inside string literals when stripping", async () => {
    const c = { github: { ref: "a}}b" } };
    expect(await evaluateCondition("${{ contains(github.ref, '}}') }}", c, ok)).toBe(true);
  });

  it("implies success() when no status function is called, as GitHub does", async () => {
    expect(await evaluateCondition("github.event_name == 'push'", ctx, failed)).toBe(false);
    expect(await evaluateCondition("${{ github.event_name == 'push' }}", ctx, cancelled)).toBe(
      false,
    );
    expect(await evaluateCondition("always() && github.event_name == 'push'", ctx, failed)).toBe(
      true,
    );
    expect(await evaluateCondition("failure()", ctx, failed)).toBe(true);
    expect(await evaluateCondition("cancelled()", ctx, cancelled)).toBe(true);
  });

  it("treats an empty condition as success()", async () => {
    expect(await evaluateCondition("", ctx, ok)).toBe(true);
    expect(await evaluateCondition("  ", ctx, failed)).toBe(false);
  });

  it("applies GitHub truthiness", async () => {
    expect(await evaluateCondition("''", ctx, ok)).toBe(false);
    expect(await evaluateCondition("0", ctx, ok)).toBe(false);
    expect(await evaluateCondition("'false'", ctx, ok)).toBe(true);
    expect(await evaluateCondition("github.missing", ctx, ok)).toBe(false);
    expect(await evaluateCondition("github.event", ctx, ok)).toBe(true);
    expect(await evaluateCondition("fromJSON('[]')", ctx, ok)).toBe(true);
  });

  it("treats text mixing literals and ${{ }} as a non-empty string, as GitHub does", async () => {
    expect(await evaluateCondition("${{ false }} == true", ctx, ok)).toBe(true);
  });

  it("reports an unterminated ${{", async () => {
    await expectExpressionError(evaluateCondition("${{ github.ref", ctx, ok), /unterminated/);
  });
});

describe("string literals with several escaped quotes", () => {
  it("unescapes every doubled quote, not only the first", async () => {
    await expect(evaluateExpression("format('tr ''a'' ''b'' {0}', 'x')", {})).resolves.toBe(
      "tr 'a' 'b' x",
    );
    await expect(evaluateExpression("'it''s ''quoted'''", {})).resolves.toBe("it's 'quoted'");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateExpression } from "./evaluate-expression.ts";
import { expandMatrix, matrixLegName, strategyContext } from "./expand-matrix.ts";
import type { JsonValue } from "./model.ts";

const location = { file: ".github/workflows/ci.yml", line: 9, col: 5 };

function legs(strategy: JsonValue | undefined): JsonValue[] {
  const r = expandMatrix(strategy);
  expect(r.diagnostics).toEqual([]);
  return (r.value?.legs ?? []).map((l) => l.values);
}

function errors(strategy: JsonValue | undefined): string[] {
  const r = expandMatrix(strategy, { location });
  expect(r.value).toBeUndefined();
  for (const d of r.diagnostics) {
    expect(d).toMatchObject({ severity: "error", ...location });
  }
  return r.diagnostics.map((d) => d.message);
}

describe("expandMatrix", () => {
  it("gives a job without a matrix one empty leg", () => {
    for (const s of [undefined, null, {}, { "fail-fast": false }] as (JsonValue | undefined)[]) {
      const r = expandMatrix(s);
      expect(r.diagnostics).toEqual([]);
      expect(r.value?.legs).toEqual([{ values: {}, index: 0 }]);
      expect(r.value?.total).toBe(1);
      expect(r.value?.maxParallel).toBe(1);
    }
  });

  it("takes the cartesian product with the first key varying slowest", () => {
    const r = expandMatrix({
      matrix: { version: [10, 12, 14], os: ["ubuntu-latest", "windows-latest"] },
    });
    expect(r.value?.legs).toEqual([
      { values: { version: 10, os: "ubuntu-latest" }, index: 0 },
      { values: { version: 10, os: "windows-latest" }, index: 1 },
      { values: { version: 12, os: "ubuntu-latest" }, index: 2 },
      { values: { version: 12, os: "windows-latest" }, index: 3 },
      { values: { version: 14, os: "ubuntu-latest" }, index: 4 },
      { values: { version: 14, os: "windows-latest" }, index: 5 },
    ]);
    expect(r.value).toMatchObject({ total: 6, failFast: true, maxParallel: 6 });
  });

  it("matches GitHub's documented include example (fruit and animal)", () => {
    expect(
      legs({
        matrix: {
          fruit: ["apple", "pear"],
          animal: ["cat", "dog"],
          include: [
            { color: "green" },
            { color: "pink", animal: "cat" },
            { fruit: "apple", shape: "circle" },
            { fruit: "banana" },
            { fruit: "banana", animal: "cat" },
          ],
        },
      }),
    ).toEqual([
      { fruit: "apple", animal: "cat", color: "pink", shape: "circle" },
      { fruit: "apple", animal: "dog", color: "green", shape: "circle" },
      { fruit: "pear", animal: "cat", color: "pink" },
      { fruit: "pear", animal: "dog", color: "green" },
      { fruit: "banana" },
      { fruit: "banana", animal: "cat" },
    ]);
  });

  it("matches GitHub's documented example that adds npm to one combination", () => {
    expect(
      legs({
        matrix: {
          os: ["windows-latest", "ubuntu-latest"],
          node: [14, 16],
          include: [{ os: "windows-latest", node: 16, npm: 6 }],
        },
      }),
    ).toEqual([
      { os: "windows-latest", node: 14 },
      { os: "windows-latest", node: 16, npm: 6 },
      { os: "ubuntu-latest", node: 14 },
      { os: "ubuntu-latest", node: 16 },
    ]);
  });

  it("matches GitHub's documented exclude example (15 of 18 jobs remain)", () => {
    const out = legs({
      matrix: {
        os: ["macos-latest", "windows-latest", "ubuntu-latest"],
        version: [12, 14, 16],
        environment: ["staging", "production"],
        exclude: [
          { os: "macos-latest", version: 12, environment: "production" },
          { os: "windows-latest", version: 16 },
        ],
      },
    });
    expect(out).toHaveLength(15);
    expect(out).not.toContainEqual({ os: "macos-latest", version: 12, environment: "production" });
    expect(out).not.toContainEqual({ os: "windows-latest", version: 16, environment: "staging" });
    expect(out).not.toContainEqual({
      os: "windows-latest",
      version: 16,
      environment: "production",
    });
    expect(out).toContainEqual({ os: "macos-latest", version: 12, environment: "staging" });
  });

  it("expands an include-only matrix to one leg per entry", () => {
    expect(
      legs({
        matrix: {
          include: [
            { site: "production", datacenter: "site-a" },
            { site: "staging", datacenter: "site-b" },
          ],
        },
      }),
    ).toEqual([
      { site: "production", datacenter: "site-a" },
      { site: "staging", datacenter: "site-b" },
    ]);
  });

  it("excludes by partial match of nested objects", () => {
    expect(
      legs({
        matrix: {
          cfg: [
            { os: "linux", arch: "x64" },
            { os: "linux", arch: "arm64" },
            { os: "mac", arch: "arm64" },
          ],
          exclude: [{ cfg: { os: "linux" } }],
        },
      }),
    ).toEqual([{ cfg: { os: "mac", arch: "arm64" } }]);
  });

  it("expands a matrix produced by fromJSON", async () => {
    const m = await evaluateExpression("fromJSON(needs.setup.outputs.matrix)", {
      needs: {
        setup: { outputs: { matrix: '{"node":[18,20],"include":[{"node":20,"coverage":true}]}' } },
      },
    });
    expect(legs({ matrix: m })).toEqual([{ node: 18 }, { node: 20, coverage: true }]);
  });

  it("reports a matrix that is not a mapping, suggesting fromJSON for strings", () => {
    const r = expandMatrix({ matrix: '{"os":["a"]}' }, { location });
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ ...location, field: "strategy.matrix" });
    expect(r.diagnostics[0]?.message).toMatch(/matrix must be a mapping/);
    expect(r.diagnostics[0]?.hint).toMatch(/fromJSON/);
    expect(errors({ matrix: [1, 2] })[0]).toMatch(/matrix must be a mapping, but it is a sequence/);
    expect(errors("fast")[0]).toMatch(/strategy must be a mapping/);
  });

  it("accepts exactly 256 legs", () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i);
    const r = expandMatrix({ matrix: { a: values(16), b: values(16) } });
    expect(r.diagnostics).toEqual([]);
    expect(r.value?.total).toBe(256);
    expect(r.value?.legs[255]).toEqual({ values: { a: 15, b: 15 }, index: 255 });
  });

  it("rejects more than 256 legs, counting includes that add legs", () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(errors({ matrix: { a: values(16), b: values(16), include: [{ a: 99 }] } })).toEqual([
      "matrix expands to 257 jobs; GitHub allows at most 256",
    ]);
    expect(errors({ matrix: { a: values(257) } })).toEqual([
      "matrix expands to 257 jobs; GitHub allows at most 256",
    ]);
    expect(errors({ matrix: { a: values(1000), b: values(1000), c: values(2) } })[0]).toMatch(
      /2000000 combinations/,
    );
  });

  it("reports a matrix whose every combination is excluded", () => {
    expect(errors({ matrix: { os: ["a"], exclude: [{ os: "a" }] } })).toEqual([
      "matrix must define at least one vector",
    ]);
    expect(errors({ matrix: {} })).toEqual(["matrix must define at least one vector"]);
  });

  it("reports empty and non-sequence vectors and bad include/exclude entries", () => {
    expect(errors({ matrix: { os: [] } })).toEqual([
      "matrix vector 'os' does not contain any values",
    ]);
    expect(errors({ matrix: { os: "ubuntu" } })[0]).toMatch(/vector 'os' must be a sequence/);
    expect(errors({ matrix: { os: ["a"], include: [1] } })[0]).toMatch(
      /include entry 1 must be a mapping/,
    );
    expect(errors({ matrix: { os: ["a"], exclude: { os: "a" } } })[0]).toMatch(
      /exclude must be a sequence/,
    );
    expect(errors({ matrix: { os: ["a"], exclude: [{ arch: "x" }] } })).toEqual([
      "matrix exclude key 'arch' does not match any key within the matrix",
    ]);
  });

  it("reads fail-fast and max-parallel, defaulting like GitHub", () => {
    const s = expandMatrix({ "fail-fast": false, "max-parallel": 2, matrix: { n: [1, 2, 3] } });
    expect(s.value).toMatchObject({ failFast: false, maxParallel: 2, total: 3 });
    expect(expandMatrix({ "max-parallel": "3", matrix: { n: [1] } }).value?.maxParallel).toBe(3);
    expect(expandMatrix({ "fail-fast": "false" }).value?.failFast).toBe(false);
  });

  it("rejects non-positive or fractional max-parallel and non-boolean fail-fast", () => {
    expect(errors({ "max-parallel": 0, matrix: { n: [1] } })[0]).toMatch(
      /max-parallel must be a whole number/,
    );
    expect(errors({ "max-parallel": -1 })[0]).toMatch(/max-parallel/);
    expect(errors({ "max-parallel": 1.5 })[0]).toMatch(/max-parallel/);
    expect(errors({ "fail-fast": "maybe" })[0]).toMatch(/fail-fast must be true or false/);
  });

  it("gives legs that do not share objects with the input", () => {
    const input = { cfg: [{ os: "linux" }] };
    const r = expandMatrix({ matrix: input });
    const first = r.value?.legs[0]?.values["cfg"] as { os: string };
    first.os = "changed";
    expect(input.cfg[0]?.os).toBe("linux");
  });

  it("has as many legs as the product of the vector lengths, in order, all distinct", () => {
    const vector = fc.uniqueArray(
      fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean()),
      {
        minLength: 1,
        maxLength: 4,
        selector: (v) => JSON.stringify(v),
      },
    );
    const matrix = fc.dictionary(
      fc
        .string({ minLength: 1, maxLength: 6 })
        .filter((k) => k !== "include" && k !== "exclude" && k !== "__proto__"),
      vector,
      { minKeys: 1, maxKeys: 4 },
    );
    fc.assert(
      fc.property(matrix, (m) => {
        const r = expandMatrix({ matrix: m });
        const expected = Object.values(m).reduce((n, v) => n * v.length, 1);
        expect(r.diagnostics).toEqual([]);
        expect(r.value?.total).toBe(expected);
        expect(r.value?.legs.map((l) => l.index)).toEqual([...Array(expected).keys()]);
        const seen = new Set(r.value?.legs.map((l) => JSON.stringify(l.values)));
        expect(seen.size).toBe(expected);
        // The last key varies fastest: the first two legs differ only in it when it has 2+ values.
        const keys = Object.keys(m);
        const last = keys[keys.length - 1] as string;
        if ((m[last]?.length ?? 0) > 1) {
          const [a, b] = r.value?.legs ?? [];
          for (const k of keys.slice(0, -1)) expect(b?.values[k]).toEqual(a?.values[k]);
        }
      }),
    );
  });
});

describe("matrixLegName", () => {
  it("joins the leg's values in key order", () => {
    expect(matrixLegName("build", { values: { node: 18, os: "ubuntu-latest" }, index: 0 })).toBe(
      "build (18, ubuntu-latest)",
    );
  });

  it("shows nested objects and arrays as their values", () => {
    expect(
      matrixLegName("test", {
        values: { cfg: { os: "linux", arch: ["x64"] }, debug: true },
        index: 0,
      }),
    ).toBe("test (linux, x64, true)");
  });

  it("keeps the plain name for a job without matrix values", () => {
    expect(matrixLegName("lint", { values: {}, index: 0 })).toBe("lint");
  });
});

describe("strategyContext", () => {
  it("exposes job-index, job-total, fail-fast and max-parallel", () => {
    const s = expandMatrix({ "max-parallel": 1, matrix: { n: [1, 2] } }).value;
    if (!s) throw new Error("no strategy");
    expect(strategyContext(s, s.legs[1] ?? { values: {}, index: -1 })).toEqual({
      "fail-fast": true,
      "job-index": 1,
      "job-total": 2,
      "max-parallel": 1,
    });
  });
});

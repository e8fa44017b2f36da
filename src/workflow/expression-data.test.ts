import { data } from "@actions/expressions";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coerceToString, fromExpressionData, setOwn, toExpressionData } from "./expression-data.ts";
import type { JsonValue } from "./model.ts";

/** True when no object in the value has two keys that differ only in case. */
function caseDistinct(v: JsonValue): boolean {
  if (Array.isArray(v)) return v.every(caseDistinct);
  if (v === null || typeof v !== "object") return true;
  const keys = Object.keys(v);
  return (
    new Set(keys.map((k) => k.toLowerCase())).size === keys.length &&
    Object.values(v).every(caseDistinct)
  );
}

describe("expression data conversion", () => {
  it("round-trips JSON whose keys are distinct ignoring case", () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => caseDistinct(v as JsonValue)),
        (v) => {
          expect(fromExpressionData(toExpressionData(v as JsonValue))).toEqual(v);
        },
      ),
    );
  });

  it("looks keys up case-insensitively, the first spelling winning", () => {
    const d = toExpressionData({ Path: "/a", PATH: "/b" });
    expect(d.kind).toBe(data.Kind.Dictionary);
    expect((d as data.Dictionary).get("path")).toEqual(new data.StringData("/a"));
    expect(fromExpressionData(d)).toEqual({ Path: "/a" });
  });

  it("turns NaN into null, since JSON has no NaN", () => {
    expect(fromExpressionData(new data.NumberData(NaN))).toBeNull();
  });

  it("never lets a __proto__ key replace an object's prototype", () => {
    // The library's dictionary drops the key (its index is a plain object); what matters is
    // that the converted value keeps an ordinary prototype.
    const v = fromExpressionData(
      toExpressionData(JSON.parse('{"__proto__":{"x":1}}') as JsonValue),
    );
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect((v as { x?: unknown }).x).toBeUndefined();
    const o: { [k: string]: JsonValue } = {};
    setOwn(o, "__proto__", { x: 1 });
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(["__proto__"]);
  });
});

describe("coerceToString", () => {
  it("prints values as GitHub does", () => {
    expect(coerceToString(1)).toBe("1");
    expect(coerceToString(1.5)).toBe("1.5");
    expect(coerceToString(0.1 + 0.2)).toBe("0.3");
    expect(coerceToString(true)).toBe("true");
    expect(coerceToString(null)).toBe("");
    expect(coerceToString("x")).toBe("x");
    expect(coerceToString({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });
});

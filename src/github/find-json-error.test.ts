import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findJsonError } from "./find-json-error.ts";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("findJsonError", () => {
  it("accepts everything JSON.stringify produces", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (v, pretty) => {
        expect(findJsonError(JSON.stringify(v, null, pretty ? 2 : undefined), 64)).toBeUndefined();
      }),
    );
  });

  it("agrees with JSON.parse on arbitrary and mutated text", () => {
    const mutated = fc
      .tuple(
        fc.json({ depthSize: "small" }),
        fc.nat(),
        fc.constantFrom("", ",", "]", "}", '"', ":", "\\", "x", " ", "1"),
      )
      .map(([text, at, ch]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + ch + text.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(fc.string(), mutated), (text) => {
        expect(findJsonError(text, 1000) === undefined).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("points at the offending character", () => {
    const text = '{"a": [1, 2,]}';
    expect(findJsonError(text, 10)).toEqual({
      offset: text.indexOf("]"),
      message: 'unexpected character "]"',
    });
    expect(findJsonError('{"a" 1}', 10)?.offset).toBe(5);
    expect(findJsonError('{"a": "x', 10)?.message).toBe("unterminated string");
  });

  it("refuses nesting deeper than the limit without recursing", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(findJsonError(deep, 256)?.message).toBe("nesting deeper than 256 levels");
    expect(findJsonError("[[[]]]", 3)).toBeUndefined();
    expect(findJsonError("[[[[]]]]", 3)?.offset).toBe(3);
  });
});

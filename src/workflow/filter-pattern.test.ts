import { describe, expect, it } from "vitest";
import { filterPattern } from "./filter-pattern.ts";

const m = (pattern: string, value: string) => filterPattern.compile(pattern).test(value);

describe("filterPattern", () => {
  it("matches * within one path segment only", () => {
    expect(m("feature/*", "feature/x")).toBe(true);
    expect(m("feature/*", "feature/x/y")).toBe(false);
    expect(m("*", "main")).toBe(true);
    expect(m("*", "a/b")).toBe(false);
  });

  it("matches ** across segments", () => {
    expect(m("feature/**", "feature/x/y")).toBe(true);
    expect(m("**.js", "src/a/b.js")).toBe(true);
    expect(m("docs/**", "src/docs/a.md")).toBe(false);
  });

  it("treats ? as zero or one of the preceding character", () => {
    expect(m("v2?", "v")).toBe(true);
    expect(m("v2?", "v2")).toBe(true);
    expect(m("v2?", "v22")).toBe(false);
  });

  it("treats + as one or more of the preceding character", () => {
    expect(m("v1+", "v111")).toBe(true);
    expect(m("v1+", "v")).toBe(false);
  });

  it("matches one character from [] ranges", () => {
    expect(m("v[12].[0-9]+", "v2.10")).toBe(true);
    expect(m("v[12].[0-9]+", "v3.1")).toBe(false);
  });

  it("escapes regex metacharacters and honours backslash escapes", () => {
    expect(m("a.b", "axb")).toBe(false);
    expect(m("a.b", "a.b")).toBe(true);
    expect(m("v\\*", "v*")).toBe(true);
    expect(m("v\\*", "vx")).toBe(false);
    expect(m("(x)|y", "(x)|y")).toBe(true);
  });

  it("applies ! negations in order, letting a later pattern include again", () => {
    const patterns = ["releases/**", "!releases/**-alpha", "releases/special-alpha"];
    expect(filterPattern.matchesAny(patterns, "releases/10")).toBe(true);
    expect(filterPattern.matchesAny(patterns, "releases/10-alpha")).toBe(false);
    expect(filterPattern.matchesAny(patterns, "releases/special-alpha")).toBe(true);
    expect(filterPattern.matchesAny(patterns, "main")).toBe(false);
  });
});

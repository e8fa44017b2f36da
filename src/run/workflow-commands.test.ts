import { describe, expect, it } from "vitest";
import { parseWorkflowCommand } from "./workflow-commands.ts";

describe("parseWorkflowCommand", () => {
  it("parses name, properties and data with GitHub's escapes", () => {
    expect(
      parseWorkflowCommand("::error file=a%3Ab.ts,line=3,Title=x%2Cy::bad%0Athing%25 %0Dend"),
    ).toEqual({
      name: "error",
      properties: { file: "a:b.ts", line: "3", title: "x,y" },
      data: "bad\nthing% \rend",
    });
  });

  it("accepts leading whitespace and data containing '::'", () => {
    expect(parseWorkflowCommand("   ::debug::a::b")).toEqual({
      name: "debug",
      properties: {},
      data: "a::b",
    });
  });

  it("decodes %250A to %0A, not to a newline", () => {
    expect(parseWorkflowCommand("::notice::%250A")?.data).toBe("%0A");
  });

  it("drops property pairs with an empty side", () => {
    expect(parseWorkflowCommand("::warning a=,=b,c=1,,d::m")?.properties).toEqual({ c: "1" });
  });

  it("returns undefined for lines that are not commands", () => {
    for (const l of ["plain", ":: x", "::missing-end", "::::data", "text ::error::x", ""]) {
      expect(parseWorkflowCommand(l), l).toBeUndefined();
    }
  });
});

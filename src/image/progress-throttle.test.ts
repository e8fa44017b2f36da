import { describe, expect, it } from "vitest";
import { throttleProgress } from "./progress-throttle.ts";

describe("throttleProgress", () => {
  it("passes the first line of each phase and at most one line per interval within a phase", () => {
    let now = 0;
    const out: string[] = [];
    const p = throttleProgress(
      (l) => out.push(l),
      500,
      () => now,
    );
    p("I: Retrieving a");
    now = 100;
    p("I: Retrieving b");
    now = 200;
    p("I: Validating a");
    now = 300;
    p("I: Validating b");
    now = 800;
    p("I: Validating c");
    expect(out).toEqual(["I: Retrieving a", "I: Validating a", "I: Validating c"]);
  });

  it("is a no-op without a sink", () => {
    expect(() => throttleProgress(undefined)("x")).not.toThrow();
  });
});

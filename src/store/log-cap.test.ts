import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LogCap, truncateUtf8 } from "./log-cap.ts";

describe("truncateUtf8", () => {
  it("never exceeds the budget and never splits a character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.nat(64), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
        expect(text.startsWith(cut)).toBe(true);
        expect(cut).not.toContain("\uFFFD");
      }),
    );
  });
});

describe("LogCap", () => {
  it("admits lines until the cap, marks once, then drops and counts", () => {
    const cap = new LogCap(10);
    expect(cap.admit("r", "j", 0, "abcd")).toEqual({ keep: "abcd", marker: false }); // 5 bytes
    // 8 bytes do not fit in the 5 left: the head that does ("efgh" + newline) is kept.
    expect(cap.admit("r", "j", 0, "efghijk")).toEqual({ keep: "efgh", marker: true });
    expect(cap.admit("r", "j", 0, "x")).toEqual({ keep: undefined, marker: false });
    expect(cap.usage("r", "j", 0)).toEqual({ kept: 10, dropped: 3 + 2 });
    expect(cap.admit("r", "j", 1, "abcd")).toEqual({ keep: "abcd", marker: false });
    expect(cap.release("r", "j", 0)).toEqual({ kept: 10, dropped: 5 });
    expect(cap.usage("r", "j", 0)).toEqual({ kept: 0, dropped: 0 });
  });
});

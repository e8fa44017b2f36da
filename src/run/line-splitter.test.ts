import { describe, expect, it } from "vitest";
import { createLineSplitter } from "./line-splitter.ts";

describe("createLineSplitter", () => {
  it("splits on LF, CRLF and lone CR, and keeps the partial last line until flush", () => {
    const s = createLineSplitter();
    expect(s.push("a\nb\r\nc\rd")).toEqual(["a", "b", "c"]);
    expect(s.flush()).toEqual(["d"]);
    expect(s.flush()).toEqual([]);
  });

  it("treats a CRLF split across chunks as one line ending", () => {
    const s = createLineSplitter();
    expect(s.push("one\r")).toEqual(["one"]);
    expect(s.push("\ntwo\n")).toEqual(["two"]);
    expect(s.flush()).toEqual([]);
  });

  it("joins a line split across chunks", () => {
    const s = createLineSplitter();
    expect(s.push("hel")).toEqual([]);
    expect(s.push("lo wor")).toEqual([]);
    expect(s.push("ld\n")).toEqual(["hello world"]);
  });

  it("keeps a multi-byte UTF-8 character whole when its bytes arrive in different chunks", () => {
    const bytes = Buffer.from("héllo 😀 wörld\n");
    const s = createLineSplitter();
    const lines: string[] = [];
    for (const b of bytes) lines.push(...s.push(Uint8Array.of(b)));
    lines.push(...s.flush());
    expect(lines).toEqual(["héllo 😀 wörld"]);
  });

  it("cuts an overlong line into marked pieces without holding more than the cap", () => {
    const s = createLineSplitter({ maxLineLength: 10, continuationMarker: "»" });
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(...s.push("abcdefgh"));
    lines.push(...s.push("\nnext\n"));
    expect(lines).toEqual(["abcdefghab»", "cdefghabcd»", "efghabcdef»", "ghabcdefgh", "next"]);
    expect(lines.join("").replace(/»/g, "")).toBe("abcdefgh".repeat(5) + "next");
  });

  it("splits a 100 MB line without a newline into bounded pieces", () => {
    const s = createLineSplitter();
    const chunk = "x".repeat(1 << 20);
    let pieces = 0;
    let longest = 0;
    for (let i = 0; i < 100; i++) {
      for (const l of s.push(chunk)) {
        pieces++;
        longest = Math.max(longest, l.length);
      }
    }
    pieces += s.flush().length;
    expect(pieces).toBe(100);
    expect(longest).toBeLessThan((1 << 20) + 100);
  });

  it("never splits a surrogate pair when cutting", () => {
    const s = createLineSplitter({ maxLineLength: 3, continuationMarker: "" });
    const lines = [...s.push("ab😀cd\n")];
    expect(lines.join("")).toBe("ab😀cd");
    for (const l of lines) expect(l.isWellFormed()).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { parseEnvFile, parsePathFile } from "./env-files.ts";

describe("parseEnvFile", () => {
  it("reads NAME=value lines, keeping '=' and '<<' in values", () => {
    const r = parseEnvFile("A=1\nB=x=y<<z\n\nC=\n", { file: "GITHUB_OUTPUT" });
    expect(r.values).toEqual([
      { key: "A", value: "1" },
      { key: "B", value: "x=y<<z" },
      { key: "C", value: "" },
    ]);
    expect(r.diagnostics).toEqual([]);
  });

  it("reads heredocs, including CRLF files, and keeps inner line endings", () => {
    const r = parseEnvFile('J<<EOF\r\n{\r\n  "a": 1\r\n}\r\nEOF\r\nK=v\r\n', {
      file: "GITHUB_OUTPUT",
    });
    expect(r.values).toEqual([
      { key: "J", value: '{\r\n  "a": 1\r\n}' },
      { key: "K", value: "v" },
    ]);
  });

  it("reads an empty heredoc value and a value that mentions the delimiter mid-line", () => {
    const r = parseEnvFile("E<<X\nX\nF<<X\nnot X here\nX", { file: "GITHUB_OUTPUT" });
    expect(r.values).toEqual([
      { key: "E", value: "" },
      { key: "F", value: "not X here" },
    ]);
  });

  it("reports a missing closing delimiter with its line", () => {
    const r = parseEnvFile("A=1\nB<<EOF\nvalue\nC=2\n", { file: "GITHUB_ENV" });
    expect(r.values).toEqual([{ key: "A", value: "1" }]);
    expect(r.diagnostics).toMatchObject([{ severity: "error", line: 2, file: "GITHUB_ENV" }]);
    expect(r.diagnostics[0]!.message).toContain("'EOF'");
  });

  it("rejects empty names, empty delimiters and lines of neither form", () => {
    const r = parseEnvFile("=v\nX<<\njunk\nOK=1", { file: "GITHUB_OUTPUT" });
    expect(r.values).toEqual([{ key: "OK", value: "1" }]);
    expect(r.diagnostics.map((d) => d.line)).toEqual([1, 2, 3]);
    expect(r.diagnostics.every((d) => d.severity === "error")).toBe(true);
  });

  it("blocks NODE_OPTIONS in GITHUB_ENV only", () => {
    const env = parseEnvFile("node_options=--require /tmp/x.js\nA=1\n", {
      file: "/tmp/x/GITHUB_ENV",
    });
    expect(env.values).toEqual([{ key: "A", value: "1" }]);
    expect(env.diagnostics[0]!.message).toBe(
      "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
    );
    const out = parseEnvFile("NODE_OPTIONS=x\n", { file: "GITHUB_OUTPUT" });
    expect(out.values).toEqual([{ key: "NODE_OPTIONS", value: "x" }]);
    const state = parseEnvFile("NODE_OPTIONS=x\n", { file: "f", kind: "state" });
    expect(state.diagnostics).toEqual([]);
  });
});

describe("parsePathFile", () => {
  it("puts later lines first, skips blanks and keeps a repeated directory at its latest position", () => {
    expect(parsePathFile("/a\r\n\n/b\n  \n/a\n/c")).toEqual(["/c", "/a", "/b"]);
  });
});

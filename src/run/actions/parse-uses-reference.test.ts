import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isFullSha, parseUsesReference } from "./parse-uses-reference.ts";

describe("parseUsesReference", () => {
  it("parses owner/repo@ref", () => {
    expect(parseUsesReference("actions/setup-node@v4")).toEqual({
      value: {
        kind: "remote",
        raw: "actions/setup-node@v4",
        owner: "actions",
        repo: "setup-node",
        path: undefined,
        ref: "v4",
      },
      diagnostics: [],
    });
  });

  it("parses a sub-directory and a ref with slashes", () => {
    expect(parseUsesReference("github/codeql-action/init@releases/v3").value).toMatchObject({
      kind: "remote",
      owner: "github",
      repo: "codeql-action",
      path: "init",
      ref: "releases/v3",
    });
  });

  it("parses a local path, normalised and without ./", () => {
    expect(parseUsesReference("./.github/actions/build/").value).toEqual({
      kind: "local",
      raw: "./.github/actions/build/",
      path: ".github/actions/build",
    });
    expect(parseUsesReference("./").value).toMatchObject({ kind: "local", path: "." });
    expect(parseUsesReference("./a/../b").value).toMatchObject({ kind: "local", path: "b" });
  });

  it("parses docker://image as a docker reference", () => {
    expect(parseUsesReference("docker://alpine:3.20").value).toEqual({
      kind: "docker",
      raw: "docker://alpine:3.20",
      image: "alpine:3.20",
    });
  });

  it.each([
    ["", "is empty"],
    ["actions/checkout", "has no version"],
    ["actions/checkout@", "empty version"],
    ["checkout@v4", "is not owner/repo@ref"],
    ["/abs/path", "outside the repository"],
    ["../sibling", "outside the repository"],
    ["./a/../../etc", "outside the repository"],
    ["owner/repo/../x@v1", "invalid path"],
    ["owner/repo//x@v1", "invalid path"],
    ["own er/repo@v1", "invalid owner"],
    ["-owner/repo@v1", "invalid owner"],
    ["owner/re$po@v1", "invalid repository name"],
    ["owner/..@v1", "invalid repository name"],
    ["owner/repo@-upload-pack=evil", "starts with -"],
    ["owner/repo@v1..v2", "contains .."],
    ["owner/repo@v1 v2", "contains a space"],
    ["owner/repo@v1.lock", "ends with"],
    ["docker://", "invalid docker image"],
    ["owner/repo@v1\u0000", "control character"],
  ])("refuses %j (%s)", (uses, fragment) => {
    const r = parseUsesReference(uses, { file: "ci.yml", line: 4, col: 15 });
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      severity: "error",
      file: "ci.yml",
      line: 4,
      col: 15,
      field: "uses",
    });
    expect(r.diagnostics[0]!.message).toContain(fragment);
  });

  it("gives a hint that shows how to pin a version", () => {
    expect(parseUsesReference("actions/cache").diagnostics[0]!.hint).toContain("actions/cache@v1");
  });

  it("never yields a local path that leaves the repository", () => {
    const segment = fc.constantFrom("..", ".", "a", "b", "", "...");
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segs) => {
        const r = parseUsesReference(`./${segs.join("/")}`);
        if (r.value?.kind === "local") {
          expect(
            r.value.path === ".." || r.value.path.startsWith("../") || r.value.path.startsWith("/"),
          ).toBe(false);
        } else {
          expect(r.diagnostics[0]!.message).toContain("outside the repository");
        }
      }),
    );
  });

  it("never yields a remote path or ref with a .. component", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (tail) => {
        const r = parseUsesReference(`o/r/${tail}`);
        if (r.value?.kind === "remote") {
          expect((r.value.path ?? "").split("/")).not.toContain("..");
          expect(r.value.ref.split("/")).not.toContain("..");
        }
      }),
    );
  });
});

describe("isFullSha", () => {
  it("accepts 40 and 64 hex digits only", () => {
    expect(isFullSha("a".repeat(40))).toBe(true);
    expect(isFullSha("A1".repeat(32))).toBe(true);
    expect(isFullSha("a".repeat(39))).toBe(false);
    expect(isFullSha("g".repeat(40))).toBe(false);
    expect(isFullSha("v1")).toBe(false);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadImageFile, parseImageFile } from "./image-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("parseImageFile", () => {
  it("reads a YAML file with a name and packages", () => {
    const r = parseImageFile("name: ci\ninclude:\n  - ripgrep\n  - shellcheck\n", "image.yml");
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({ name: "ci", include: ["ripgrep", "shellcheck"] });
  });

  it("reads the same from JSON", () => {
    const r = parseImageFile('{"name": "ci", "include": ["g++"]}', "image.json");
    expect(r.value).toEqual({ name: "ci", include: ["g++"] });
  });

  it("accepts an empty file as no extra packages", () => {
    expect(parseImageFile("", "image.yml")).toEqual({ value: {}, diagnostics: [] });
  });

  it("points at the line of a package name that is not valid", () => {
    const r = parseImageFile("name: ci\ninclude:\n  - ripgrep\n  - Bad_Name\n", "image.yml");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      severity: "error",
      file: "image.yml",
      line: 4,
      col: 5,
    });
    expect(r.diagnostics[0]?.message).toMatch(/include\.1.*not a Debian package name/);
  });

  it("reports unknown keys at their line with a hint", () => {
    const r = parseImageFile("name: ci\npackages: [x]\n", "image.yml");
    expect(r.diagnostics[0]).toMatchObject({ line: 2, message: "unknown key 'packages'" });
    expect(r.diagnostics[0]?.hint).toMatch(/include/);
  });

  it("reports a bad name and a non-list include", () => {
    const r = parseImageFile("name: Not OK\ninclude: ripgrep\n", "image.yml");
    expect(r.diagnostics.map((d) => d.line).sort()).toEqual([1, 2]);
  });

  it("reports YAML syntax errors with their position", () => {
    const r = parseImageFile("name: ci\ninclude: [a, b\n", "image.yml");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]?.line).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics[0]?.file).toBe("image.yml");
  });

  it("rejects a file that is not a mapping", () => {
    const r = parseImageFile("- a\n- b\n", "image.yml");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]?.line).toBe(1);
  });
});

describe("loadImageFile", () => {
  it("turns an unreadable file into a diagnostic instead of throwing", async () => {
    const r = await loadImageFile("/nonexistent/image.yml");
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]?.message).toMatch(/ENOENT/);
  });

  it("reads a file from disk", async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), "actvm-imgfile-"));
    dirs.push(d);
    writeFileSync(path.join(d, "image.yml"), "include: [zsh]\n");
    expect((await loadImageFile(path.join(d, "image.yml"))).value).toEqual({ include: ["zsh"] });
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeyValueFlags, parseKeyValueText, readKeyValueFile } from "./key-values.ts";

describe("parseKeyValueFlags", () => {
  it("splits KEY=VALUE at the first separator and keeps the rest of the value", () => {
    const r = parseKeyValueFlags("--var", ["A=1", "B=x=y", "C="]);
    expect(r.values).toEqual({ A: "1", B: "x=y", C: "" });
    expect(r.diagnostics).toEqual([]);
  });

  it("takes a bare name's value from the environment, like act's -s NAME", () => {
    const r = parseKeyValueFlags("-s/--secret", ["TOKEN"], { fromEnv: { TOKEN: "from-env" } });
    expect(r.values).toEqual({ TOKEN: "from-env" });
  });

  it("reports a bare name that is not in the environment and a bad name, without the value", () => {
    const r = parseKeyValueFlags("-s/--secret", ["MISSING", "bad name=hunter2"], { fromEnv: {} });
    expect(r.values).toEqual({});
    expect(r.diagnostics).toHaveLength(2);
    expect(r.diagnostics.every((d) => d.field === "-s/--secret")).toBe(true);
    expect(JSON.stringify(r.diagnostics)).not.toContain("hunter2");
  });

  it("uses a custom separator for --matrix", () => {
    expect(
      parseKeyValueFlags("--matrix", ["node:20", "os:ubuntu:latest"], { separator: ":" }).values,
    ).toEqual({
      node: "20",
      os: "ubuntu:latest",
    });
  });
});

describe("key/value files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "actvm-kv-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("reads comments, export, quotes and escapes", () => {
    const r = parseKeyValueText(
      "--env-file",
      "f.env",
      "# comment\nexport A=1\nB='single # kept'\nC=\"two\\nlines\"\nD=plain # trailing comment\n\n",
    );
    expect(r.values).toEqual({ A: "1", B: "single # kept", C: "two\nlines", D: "plain" });
    expect(r.diagnostics).toEqual([]);
  });

  it("locates a bad line by file and line without printing the value", () => {
    const r = parseKeyValueText(
      "--secret-file",
      "s.env",
      "OK=1\nthis is not a pair\n9BAD=secretvalue\n",
    );
    expect(r.diagnostics.map((d) => [d.file, d.line])).toEqual([
      ["s.env", 2],
      ["s.env", 3],
    ]);
    expect(JSON.stringify(r.diagnostics)).not.toContain("secretvalue");
  });

  it("reports an unreadable file with its path", async () => {
    const r = await readKeyValueFile("--var-file", path.join(dir, "missing.env"));
    expect(r.diagnostics[0]?.message).toContain("ENOENT");
    expect(r.diagnostics[0]?.file).toContain("missing.env");
  });

  it("reads a real file", async () => {
    const f = path.join(dir, "v.env");
    await writeFile(f, "REGION=eu\n");
    expect((await readKeyValueFile("--var-file", f)).values).toEqual({ REGION: "eu" });
  });
});

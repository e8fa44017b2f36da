import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBasicExpression } from "@actions/workflow-parser";
import { loadActionManifest } from "./load-action-manifest.ts";

const load = (content: string) =>
  loadActionManifest({
    path: "/r/.github/actions/x/action.yml",
    file: ".github/actions/x/action.yml",
    content,
  });

describe("loadActionManifest", () => {
  it("reads a composite action's inputs, outputs and steps", () => {
    const content = readFileSync(
      join(import.meta.dirname, "fixtures", "composite-action.yml"),
      "utf8",
    );
    const { value, diagnostics } = load(content);
    expect(diagnostics).toEqual([]);
    expect(value?.name).toBe("Setup tool");
    expect(value?.description).toBe("Installs the tool");
    expect(value?.inputs.map((i) => [i.id, i.required, typeof i.default])).toEqual([
      ["version", true, "undefined"],
      ["token", false, "object"],
      ["mode", false, "string"],
    ]);
    expect(value?.inputs[2]!.default).toBe("fast");
    expect(value?.outputs[0]!.id).toBe("path");
    expect(value?.outputs[0]!.value && isBasicExpression(value.outputs[0].value)).toBe(true);
    if (value?.runs.using !== "composite") throw new Error("expected composite");
    const [install, fast, cache] = value.runs.steps;
    expect(install).toMatchObject({ id: "install", shell: "bash", if: "success()" });
    expect(install!.run && isBasicExpression(install!.run) && install!.run.expression).toBe(
      `format('echo "installing {0}"\necho "path=/opt/tool" >> "$GITHUB_OUTPUT"\n', inputs.version)`,
    );
    expect(install!.workingDirectory).toBeDefined();
    expect(fast).toMatchObject({ if: "success() && (inputs.mode == 'fast')", shell: "sh" });
    expect(cache).toMatchObject({ uses: "actions/cache@v4" });
    expect(cache!.with).toBeDefined();
  });

  it("requires shell: on composite run steps, like GitHub", () => {
    const { diagnostics } = load(
      "name: x\ndescription: d\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n",
    );
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: "error",
        line: 6,
        message: expect.stringContaining("shell"),
        hint: expect.stringContaining("composite"),
      }),
    ]);
  });

  it("reads a node action's entry points and conditions", () => {
    const { value } = load(
      "name: n\ndescription: d\nruns:\n  using: node20\n  main: dist/index.js\n  post: dist/post.js\n  post-if: success()\n",
    );
    expect(value?.runs).toEqual({
      using: "node20",
      main: "dist/index.js",
      post: "dist/post.js",
      postIf: "success()",
    });
  });

  it("reads a docker action's image", () => {
    const { value } = load(
      "name: d\ndescription: d\nruns:\n  using: docker\n  image: Dockerfile\n",
    );
    expect(value?.runs).toEqual({ using: "docker", image: "Dockerfile" });
  });

  it("reports schema errors with positions", () => {
    const { value, diagnostics } = load(
      "name: x\ndescription: d\nruns:\n  using: node20\n  mian: index.js\n",
    );
    expect(value).toBeUndefined();
    expect(diagnostics.some((d) => d.line === 5 && d.message.includes("mian"))).toBe(true);
  });

  it("guards against alias bombs like workflows do", () => {
    let bomb = "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n";
    for (let i = 1; i < 9; i++)
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(",")}]\n`;
    const { value, diagnostics } = load(bomb);
    expect(value).toBeUndefined();
    expect(diagnostics[0]!.message).toMatch(/expands/);
  });
});

describe("lenient manifest keys", () => {
  it("accepts an action without name or description, with warnings", () => {
    const r = loadActionManifest({
      path: "/x/action.yml",
      file: "action.yml",
      content: "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo hi\n",
    });
    expect(r.value?.runs.using).toBe("composite");
    expect(r.diagnostics.every((d) => d.severity === "warning")).toBe(true);
    expect(r.diagnostics.some((d) => d.message.includes("description"))).toBe(true);
  });
});

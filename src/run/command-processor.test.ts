import { describe, expect, it } from "vitest";
import type { Annotation } from "./events.ts";
import { createCommandProcessor, type CommandProcessorOptions } from "./command-processor.ts";
import { createLineSplitter } from "./line-splitter.ts";
import { createSecretMasker } from "./secret-masker.ts";

const setup = (opts: CommandProcessorOptions = {}) => {
  const annotations: Annotation[] = [];
  const outputs: Record<string, string> = {};
  const env: Record<string, string> = {};
  const paths: string[] = [];
  const masker = createSecretMasker();
  const p = createCommandProcessor({
    masker,
    onAnnotation: (a) => annotations.push(a),
    onSetOutput: (k, v) => (outputs[k] = v),
    onSetEnv: (k, v) => (env[k] = v),
    onAddPath: (d) => paths.push(d),
    ...opts,
  });
  return { p, masker, annotations, outputs, env, paths };
};

describe("createCommandProcessor", () => {
  it("masks a value after ::add-mask:: and hides the command line", () => {
    const { p } = setup();
    expect(p.process("::add-mask::s3cr3t-value")).toEqual([]);
    expect(p.process("token is s3cr3t-value")).toEqual([
      { kind: "output", text: "token is ***", group: 0 },
    ]);
  });

  it("masks a value that appears later in the same chunk as its ::add-mask::", () => {
    const { p } = setup();
    const split = createLineSplitter();
    const shown = split
      .push(Buffer.from("::add-mask::hunter22\necho hunter22\n"))
      .flatMap((l) => p.process(l))
      .map((l) => l.text);
    expect(shown).toEqual(["echo ***"]);
  });

  it("turns error/warning/notice into annotations with validated locations", () => {
    const { p, annotations } = setup();
    const lines = p.process(
      "::error file=src/a.ts,line=3,endLine=5,col=2,endColumn=9,title=Oops::it broke",
    );
    expect(lines).toEqual([{ kind: "error", text: "it broke", group: 0 }]);
    // Columns only apply to a single line, as on GitHub.
    expect(annotations[0]).toEqual({
      level: "error",
      message: "it broke",
      file: "src/a.ts",
      line: 3,
      endLine: 5,
      title: "Oops",
    });
    p.process("::notice line=x,col=4::n");
    expect(annotations[1]).toEqual({ level: "notice", message: "n" });
    p.process("::warning line=7,col=4,endColumn=2::w");
    expect(annotations[2]).toEqual({ level: "warning", message: "w", line: 7, col: 4 });
  });

  it("masks secrets inside annotations", () => {
    const { p, annotations } = setup();
    p.process("::add-mask::pa55word");
    p.process("::error title=pa55word::login with pa55word failed");
    expect(annotations[0]).toMatchObject({ message: "login with *** failed", title: "***" });
  });

  it("tracks nested groups and never goes below zero", () => {
    const { p } = setup();
    expect(p.process("::group::Outer")).toEqual([{ kind: "group", text: "Outer", group: 0 }]);
    p.process("::group::Inner");
    expect(p.process("in")[0]!.group).toBe(2);
    p.process("::endgroup::");
    p.process("::endgroup::");
    p.process("::endgroup::");
    expect(p.groupDepth).toBe(0);
  });

  it("shows ::debug:: only when debugging", () => {
    expect(setup().p.process("::debug::detail")).toEqual([]);
    expect(setup({ debug: true }).p.process("::debug::detail")).toEqual([
      { kind: "debug", text: "detail", group: 0 },
    ]);
  });

  it("ignores every command between ::stop-commands:: and its token, including forged ones", () => {
    const { p, outputs, masker } = setup();
    expect(p.process("::stop-commands::tok-8f3a")).toEqual([]);
    expect(p.stopped).toBe(true);
    for (const forged of [
      "::set-output name=x::1",
      "::add-mask::abc123",
      "::endgroup::",
      "::stop-commands::other",
      "::tok-8f3b::",
    ]) {
      expect(p.process(forged)).toEqual([{ kind: "output", text: forged, group: 0 }]);
    }
    expect(outputs).toEqual({});
    expect(masker.size).toBe(0);
    expect(p.process("::tok-8f3a::")).toEqual([]);
    expect(p.stopped).toBe(false);
    p.process("::set-output name=x::1");
    expect(outputs).toEqual({ x: "1" });
  });

  it("refuses a weak stop token and fails the step", () => {
    const { p } = setup();
    const lines = p.process("::stop-commands::set-output");
    expect(p.failed).toBe(true);
    expect(p.stopped).toBe(false);
    expect(lines.map((l) => l.kind)).toEqual(["error", "error"]);
  });

  it("echoes commands only while ::echo::on is in effect", () => {
    const { p } = setup();
    expect(p.process("::set-output name=a::1").some((l) => l.kind === "command")).toBe(false);
    p.process("::echo::on");
    expect(p.process("::set-output name=a::1")[0]).toEqual({
      kind: "command",
      text: "::set-output name=a::1",
      group: 0,
    });
    expect(p.process("::add-mask::zzz999")).toEqual([]);
    p.process("::echo::off");
    expect(p.process("::set-output name=a::2").some((l) => l.kind === "command")).toBe(false);
  });

  it("keeps set-output working with a deprecation warning", () => {
    const { p, outputs, annotations } = setup();
    const lines = p.process("::set-output name=result::a%0Ab");
    expect(outputs).toEqual({ result: "a\nb" });
    expect(lines[0]!.kind).toBe("warning");
    expect(annotations[0]!.message).toContain("`set-output` command is deprecated");
    expect(p.failed).toBe(false);
  });

  it("refuses set-env and add-path unless unsecure commands are allowed", () => {
    const { p, env, paths } = setup();
    const lines = p.process("::set-env name=EVIL::1");
    p.process("::add-path::/evil");
    expect(env).toEqual({});
    expect(paths).toEqual([]);
    expect(p.failed).toBe(true);
    expect(lines[0]!.text).toBe("Unable to process command '::set-env name=EVIL::1' successfully.");
    expect(lines[1]!.text).toContain("`set-env` command is disabled");

    const ok = setup({ allowUnsecureCommands: true });
    ok.p.process("::set-env name=GOOD::1");
    ok.p.process("::add-path::/opt/bin");
    ok.p.process("::set-env name=node_options::--require x");
    expect(ok.env).toEqual({ GOOD: "1" });
    expect(ok.paths).toEqual(["/opt/bin"]);
  });

  it("passes unknown commands through as plain output", () => {
    const { p } = setup();
    expect(p.process("::made-up::x")).toEqual([{ kind: "output", text: "::made-up::x", group: 0 }]);
    expect(p.failed).toBe(false);
  });
});

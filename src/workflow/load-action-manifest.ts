import { NoOperationTraceWriter } from "@actions/workflow-parser";
import { convertActionTemplate, parseAction } from "@actions/workflow-parser/actions/index";
import { ErrorPolicy } from "@actions/workflow-parser/model/convert";
import {
  isLiteral,
  isMapping,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { Diagnostic, Parsed } from "../shared/diagnostic.ts";
import type { ActionDef, ActionInputDef, ActionOutputDef } from "./action-def.ts";
import { parserDiagnostics } from "./parser-diagnostics.ts";
import { preflightYaml } from "./preflight-yaml.ts";
import { readSteps } from "./read-steps.ts";
import { templateTokens } from "./template-tokens.ts";

/** One action manifest to load: its absolute path, its display name, its text. */
export interface ActionManifestSource {
  path: string;
  file: string;
  content: string;
}

/**
 * Parses and validates an action manifest (`action.yml`) into an {@link ActionDef}, with the same
 * hostile-input guards and diagnostics as workflows. Composite `run:` steps must set `shell:`,
 * as on GitHub. Never throws.
 *
 * @example
 * const { value, diagnostics } = loadActionManifest({ path, file: ".github/actions/setup/action.yml", content });
 */
export function loadActionManifest(source: ActionManifestSource): Parsed<ActionDef> {
  const { file } = source;
  const pre = preflightYaml(source.content, file);
  if (!pre.ok) return { value: undefined, diagnostics: pre.diagnostics };
  const diagnostics: Diagnostic[] = [...pre.diagnostics];
  let parsed: ReturnType<typeof parseAction>;
  let converted: ReturnType<typeof convertActionTemplate> | undefined;
  try {
    parsed = parseAction({ name: file, content: source.content }, new NoOperationTraceWriter());
    // TryConversion: a manifest whose only problems are the lenient keys below still converts.
    converted = parsed.value
      ? convertActionTemplate(parsed.context, parsed.value, {
          errorPolicy: ErrorPolicy.TryConversion,
        })
      : undefined;
  } catch (err) {
    diagnostics.push({
      severity: "error",
      message: `the action parser failed: ${String(err)}`,
      file,
      line: 1,
      col: 1,
    });
    return { value: undefined, diagnostics };
  }
  // GitHub's schema marks name and description as required, but the runner executes actions
  // without them (many local composite actions omit them), so those two are only warnings.
  const errors: Diagnostic[] = [];
  for (const d of parserDiagnostics(parsed.context.errors.getErrors(), file)) {
    if (/Required property is missing: (name|description)\b/.test(d.message)) {
      diagnostics.push({ ...d, severity: "warning" });
    } else errors.push(d);
  }
  const root = parsed.value;
  if (errors.length > 0 || !root || !isMapping(root) || !converted?.runs) {
    diagnostics.push(...errors);
    if (errors.length === 0) {
      diagnostics.push({
        severity: "error",
        message: "the action manifest has no runs:",
        file,
        line: 1,
        col: 1,
        hint: "add runs: with using:",
      });
    }
    return { value: undefined, diagnostics };
  }

  const inputs: ActionInputDef[] = (converted.inputs ?? []).map((i) => {
    const out: ActionInputDef = { id: i.id, required: i.required ?? false };
    if (i.description !== undefined) out.description = i.description;
    if (i.default !== undefined) {
      const d = templateTokens.repair(i.default, pre.multilineStrings);
      out.default = isLiteral(d) ? (templateTokens.text(d) ?? "") : d;
    }
    return out;
  });
  const outputs: ActionOutputDef[] = (converted.outputs ?? []).map((o) => {
    const out: ActionOutputDef = { id: o.id };
    if (o.description !== undefined) out.description = o.description;
    if (o.value !== undefined) out.value = templateTokens.repair(o.value, pre.multilineStrings);
    return out;
  });

  const runs = converted.runs;
  let value: ActionDef["runs"];
  if (runs.using === "composite") {
    const ifs = runs.steps.map((s) => ("if" in s && s.if ? s.if.expression : undefined));
    const stepsToken = templateTokens.get(root.find("runs"), "steps");
    const steps = readSteps(stepsToken, {
      file,
      kind: "composite",
      multiline: pre.multilineStrings,
      ifs,
    });
    diagnostics.push(...steps.diagnostics);
    value = { using: "composite", steps: steps.steps };
  } else if (runs.using === "docker") {
    value = { using: "docker", image: runs.image };
  } else {
    value = { using: runs.using, main: runs.main };
    if (runs.pre !== undefined) value.pre = runs.pre;
    if (runs.post !== undefined) value.post = runs.post;
    if (runs.preIf !== undefined) value.preIf = runs.preIf;
    if (runs.postIf !== undefined) value.postIf = runs.postIf;
  }
  const nameToken = root.find("name");
  const def: ActionDef = {
    path: source.path,
    file,
    name: converted.name ?? (nameToken && isString(nameToken) ? nameToken.value : file),
    inputs,
    outputs,
    runs: value,
  };
  if (converted.description) def.description = converted.description;
  return { value: def, diagnostics };
}

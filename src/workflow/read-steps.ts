import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import {
  isMapping,
  isSequence,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import type { Diagnostic } from "../shared/diagnostic.ts";
import { checkTimeoutMinutes } from "./check-timeout-minutes.ts";
import type { StepDef } from "./model.ts";
import { templateTokens } from "./template-tokens.ts";

/** Where the steps come from: a workflow job, or a composite action (which requires `shell:`). */
export interface ReadStepsOptions {
  file: string;
  kind: "job" | "composite";
  /** Resolved multi-line string values from the YAML preflight. */
  multiline: ReadonlyMap<string, string>;
  /**
   * The converter's `if` expression per step, by position (already wrapped in
   * `success() && (...)` where GitHub does so).
   */
  ifs: readonly (string | undefined)[];
}

/**
 * Builds {@link StepDef}s from a raw `steps:` token, keeping `${{ }}` values as tokens, and
 * reports steps actvm cannot run (Docker actions, composite `run:` without `shell:`).
 */
export function readSteps(
  token: TemplateToken | undefined,
  opts: ReadStepsOptions,
): ReadStepsResult {
  const steps: StepDef[] = [];
  const diagnostics: Diagnostic[] = [];
  if (!token || !isSequence(token)) return { steps, diagnostics };
  const fix = (t: TemplateToken | undefined): TemplateToken | undefined =>
    t === undefined ? undefined : templateTokens.repair(t, opts.multiline);
  let index = 0;
  for (const item of token) {
    const location = templateTokens.locate(item, opts.file);
    if (!isMapping(item)) {
      diagnostics.push({ severity: "error", message: "a step must be a mapping", ...location });
      index++;
      continue;
    }
    const get = (k: string): TemplateToken | undefined => item.find(k);
    const step: StepDef = { index, if: opts.ifs[index] ?? "success()", location };
    const id = get("id");
    if (id && isString(id)) step.id = id.value;
    const name = fix(get("name"));
    if (name) step.name = name;
    const run = fix(get("run"));
    const uses = get("uses");
    if (run) step.run = run;
    if (uses) step.uses = templateTokens.text(uses) ?? "";
    const withToken = fix(get("with"));
    if (withToken) step.with = withToken;
    const env = fix(get("env"));
    if (env) step.env = env;
    const shell = templateTokens.text(get("shell"));
    if (shell !== undefined) step.shell = shell;
    const wd = fix(get("working-directory"));
    if (wd) step.workingDirectory = wd;
    const timeout = get("timeout-minutes");
    if (timeout) step.timeoutMinutes = timeout;
    const badTimeout = checkTimeoutMinutes(timeout, opts.file);
    if (badTimeout) diagnostics.push(badTimeout);
    const coe = get("continue-on-error");
    if (coe) step.continueOnError = coe;

    if (step.run === undefined && step.uses === undefined) {
      diagnostics.push({
        severity: "error",
        message: "step has neither run: nor uses:",
        ...location,
        hint: "give the step a run: command or a uses: action",
      });
    } else if (step.uses?.startsWith("docker://")) {
      diagnostics.push({
        severity: "error",
        message: `Docker container actions (${step.uses}) are not supported: actvm runs jobs in its own sandbox without a container engine`,
        ...templateTokens.locate(uses, opts.file),
        hint: "install the tool in a run: step instead",
      });
    } else if (opts.kind === "composite" && step.run !== undefined && step.shell === undefined) {
      diagnostics.push({
        severity: "error",
        message: "a run: step in a composite action must set shell:",
        ...location,
        hint: "add shell: bash (or sh, pwsh, python) to the step, as GitHub requires",
      });
    }
    steps.push(step);
    index++;
  }
  return { steps, diagnostics };
}

/** Steps read, and the problems found. */
export interface ReadStepsResult {
  steps: StepDef[];
  diagnostics: Diagnostic[];
}

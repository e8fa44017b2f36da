import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import type { StepDef } from "./model.ts";

/** One `inputs:` entry of an action manifest. */
export interface ActionInputDef {
  id: string;
  required: boolean;
  /** A literal default as text, or a token when it holds `${{ }}` (such as `${{ github.token }}`). */
  default?: TemplateToken | string;
  description?: string;
}

/** One `outputs:` entry; `value` is set for composite actions. */
export interface ActionOutputDef {
  id: string;
  value?: TemplateToken;
  description?: string;
}

/** How a JavaScript action runs. */
export interface ActionRunsNode {
  using: "node12" | "node16" | "node20" | "node24";
  main: string;
  pre?: string;
  post?: string;
  /** Condition for `pre`, as written (GitHub's default is `always()`). */
  preIf?: string;
  /** Condition for `post`, as written (GitHub's default is `always()`). */
  postIf?: string;
}

/** How a composite action runs: its steps, with `${{ }}` values kept as tokens. */
export interface ActionRunsComposite {
  using: "composite";
  steps: StepDef[];
}

/** A Docker container action (actvm reports these as unsupported when a job uses one). */
export interface ActionRunsDocker {
  using: "docker";
  image: string;
}

/** An `action.yml`/`action.yaml` manifest, typed for the runner. */
export interface ActionDef {
  /** Absolute path of the manifest. */
  path: string;
  /** The manifest path as shown to users. */
  file: string;
  name: string;
  description?: string;
  inputs: ActionInputDef[];
  outputs: ActionOutputDef[];
  runs: ActionRunsComposite | ActionRunsNode | ActionRunsDocker;
}

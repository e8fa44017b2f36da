/**
 * The workflow domain: YAML → typed definitions with diagnostics, event filters, inputs, job
 * ordering, action manifests, the seed's flat view, and `${{ }}` evaluation and matrices.
 */
export type * from "./model.ts";
export { loadWorkflow } from "./load-workflow.ts";
export type { WorkflowSource } from "./load-workflow.ts";
export { loadWorkflows } from "./load-workflows.ts";
export type { LoadedWorkflows } from "./load-workflows.ts";
export { YAML_LIMITS } from "./preflight-yaml.ts";
export { planJobOrder } from "./plan-job-order.ts";
export { workflowMatchesEvent } from "./workflow-matches-event.ts";
export type { TriggerEvent } from "./workflow-matches-event.ts";
export { filterPattern } from "./filter-pattern.ts";
export { resolveInputs } from "./resolve-inputs.ts";
export type * from "./action-def.ts";
export { loadActionManifest } from "./load-action-manifest.ts";
export type { ActionManifestSource } from "./load-action-manifest.ts";
export type { ParsedWorkflow, WorkflowStep } from "./seed-view.ts";
export { toParsedWorkflow } from "./to-parsed-workflow.ts";
export type { ToParsedWorkflowOptions } from "./to-parsed-workflow.ts";
export * from "./evaluate-expression.ts";
export * from "./evaluate-token.ts";
export * from "./expand-matrix.ts";
export { isLiteralToken } from "./is-literal-token.ts";

import type { EventsConfig } from "@actions/workflow-parser/model/workflow-template";
import { filterPattern } from "./filter-pattern.ts";
import type { WorkflowDef } from "./model.ts";

/** An event to test a workflow's `on:` against. */
export interface TriggerEvent {
  /** The event name, as in `X-GitHub-Event` (`push`, `pull_request`, ...). */
  name: string;
  /** The webhook payload (only `ref`, `action`, `pull_request.base.ref`, `workflow_run`, `workflow`, `schedule` are read). */
  payload: Record<string, unknown>;
  /** Files changed by the event; `paths` filters apply only when this is known. */
  changedFiles?: string[];
}

/** Activity types used when `types:` is absent, for the events whose default is not "all". */
const DEFAULT_TYPES: Record<string, readonly string[]> = {
  pull_request: ["opened", "synchronize", "reopened"],
  pull_request_target: ["opened", "synchronize", "reopened"],
  merge_group: ["checks_requested"],
};

interface Filters {
  branches?: string[];
  "branches-ignore"?: string[];
  tags?: string[];
  "tags-ignore"?: string[];
  paths?: string[];
  "paths-ignore"?: string[];
  types?: string[];
  workflows?: string[];
}

/**
 * True when `event` triggers `workflow` under GitHub's rules: the event is listed in `on:`, its
 * activity type passes `types` (with GitHub's defaults), the ref passes `branches`/`tags`
 * (pull requests use the base branch; a push filtered only by branches skips tags and vice
 * versa), and the changed files pass `paths`/`paths-ignore` when they are known.
 *
 * @example
 * workflowMatchesEvent(wf, { name: "push", payload: { ref: "refs/heads/main" } })
 */
export function workflowMatchesEvent(
  workflow: Pick<WorkflowDef, "events">,
  event: TriggerEvent,
): boolean {
  const events: EventsConfig = workflow.events;
  if (!Object.prototype.hasOwnProperty.call(events, event.name)) return false;
  const payload = event.payload;

  if (event.name === "schedule") {
    const cron = str(payload.schedule);
    return cron === undefined || (events.schedule ?? []).some((s) => s.cron === cron);
  }

  const filters = (events[event.name] ?? {}) as Filters;
  const types = filters.types ?? DEFAULT_TYPES[event.name];
  const action = str(payload.action);
  if (types && action !== undefined && !types.includes(action)) return false;

  switch (event.name) {
    case "push":
      return matchesPush(filters, event);
    case "pull_request":
    case "pull_request_target": {
      const base = str(obj(obj(payload.pull_request)?.base)?.ref);
      if (!matchesRefList(filters.branches, filters["branches-ignore"], base)) return false;
      return matchesPaths(filters, event.changedFiles);
    }
    case "workflow_run": {
      const name = str(obj(payload.workflow)?.name) ?? str(obj(payload.workflow_run)?.name);
      if (filters.workflows && (name === undefined || !filters.workflows.some((w) => w === name)))
        return false;
      const branch = str(obj(payload.workflow_run)?.head_branch);
      return matchesRefList(filters.branches, filters["branches-ignore"], branch);
    }
    default:
      return true;
  }
}

function matchesPush(filters: Filters, event: TriggerEvent): boolean {
  const ref = str(event.payload.ref) ?? "";
  const hasBranchFilter =
    filters.branches !== undefined || filters["branches-ignore"] !== undefined;
  const hasTagFilter = filters.tags !== undefined || filters["tags-ignore"] !== undefined;
  if (ref.startsWith("refs/tags/")) {
    // A push filtered only by branches does not run for tags; paths are not evaluated for tags.
    if (hasBranchFilter && !hasTagFilter) return false;
    return matchesRefList(
      filters.tags,
      filters["tags-ignore"],
      ref.slice("refs/tags/".length),
      ref,
    );
  }
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
  if (hasTagFilter && !hasBranchFilter) return false;
  if (!matchesRefList(filters.branches, filters["branches-ignore"], branch, ref)) return false;
  return matchesPaths(filters, event.changedFiles);
}

/** Include list wins when present; otherwise the ignore list excludes. Unknown refs fail a filter. */
function matchesRefList(
  include: string[] | undefined,
  ignore: string[] | undefined,
  name: string | undefined,
  fullRef?: string,
): boolean {
  if (include === undefined && ignore === undefined) return true;
  if (name === undefined) return false;
  const test = (patterns: string[]): boolean =>
    filterPattern.matchesAny(patterns, name) ||
    (fullRef !== undefined &&
      patterns.some((p) => p.replace(/^!/, "").startsWith("refs/")) &&
      filterPattern.matchesAny(patterns, fullRef));
  if (include !== undefined) return test(include);
  return !test(ignore ?? []);
}

/** `paths`: some changed file is included. `paths-ignore`: not every changed file is ignored. */
function matchesPaths(filters: Filters, changed: string[] | undefined): boolean {
  if (changed === undefined) return true;
  if (filters.paths !== undefined) {
    const paths = filters.paths;
    return changed.some((f) => filterPattern.matchesAny(paths, f));
  }
  if (filters["paths-ignore"] !== undefined) {
    const ignore = filters["paths-ignore"];
    return changed.length === 0 || changed.some((f) => !filterPattern.matchesAny(ignore, f));
  }
  return true;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

import type { JsonValue } from "../workflow/model.ts";
import type { GitInfo } from "./git-info.ts";

/** Everything the `github` context is built from. */
export interface GithubContextInput {
  eventName: string;
  /** The event payload (default merged with `-e`), exposed as `github.event`. */
  payload: Record<string, unknown>;
  git: GitInfo;
  /** The workspace path as the job sees it (a guest path). */
  workspace: string;
  runId: string | number;
  runNumber: string | number;
  runAttempt: string | number;
  /** The job's id; set per job. */
  job?: string;
  /** The workflow's `name:` (or its file path when unnamed). */
  workflow: string;
  /** `owner/repo/.github/workflows/ci.yml@refs/heads/main`; derived when omitted. */
  workflowRef?: string;
  /** The workflow file relative to the repository, used to derive `workflow_ref`. */
  workflowFile?: string;
  /** Path of the event payload file as the job sees it. */
  eventPath?: string;
  serverUrl?: string;
  apiUrl?: string;
  graphqlUrl?: string;
  actor?: string;
  token?: string;
  retentionDays?: number;
}

/**
 * Builds GitHub's `github` context. `ref`, `sha`, the repository and the actor come from the
 * payload when it has them and from the local repository otherwise. For `pull_request*`, `ref`
 * is `refs/pull/<n>/merge` like GitHub, but `sha` is the PR head's commit: GitHub uses a merge
 * commit it creates on the server, which does not exist locally.
 *
 * @example
 * const github = buildGithubContext({ eventName: "push", payload, git, workspace: "/work",
 *   runId: 1, runNumber: 1, runAttempt: 1, workflow: "CI" });
 */
export function buildGithubContext(input: GithubContextInput): Record<string, JsonValue> {
  const { eventName, payload, git } = input;
  const serverUrl = (input.serverUrl ?? "https://github.com").replace(/\/+$/, "");
  const apiUrl = (input.apiUrl ?? defaultApiUrl(serverUrl)).replace(/\/+$/, "");
  const graphqlUrl = input.graphqlUrl ?? `${apiUrl.replace(/\/v3$/, "")}/graphql`;

  const repo = obj(payload.repository);
  const repository = str(repo?.full_name) ?? git.repository;
  const repositoryOwner =
    str(obj(repo?.owner)?.login) ?? repository.split("/")[0] ?? git.repositoryOwner;
  const pr = eventName.startsWith("pull_request") ? obj(payload.pull_request) : undefined;

  let ref: string;
  let sha: string;
  let headRef = "";
  let baseRef = "";
  if (eventName.startsWith("pull_request")) {
    const number = num(payload.number) ?? num(pr?.number) ?? 1;
    ref = `refs/pull/${number}/merge`;
    sha = str(obj(pr?.head)?.sha) ?? git.sha;
    headRef = str(obj(pr?.head)?.ref) ?? git.branch ?? "";
    baseRef = str(obj(pr?.base)?.ref) ?? git.defaultBranch;
  } else {
    ref = str(payload.ref) ?? git.ref;
    if (
      ref !== "" &&
      !ref.startsWith("refs/") &&
      (eventName === "push" || eventName === "workflow_dispatch")
    ) {
      // A bare branch name in a hand-written payload means that branch.
      ref = `refs/heads/${ref}`;
    }
    sha = (eventName === "push" ? str(payload.after) : undefined) ?? git.sha;
    if (eventName === "push") baseRef = str(payload.base_ref) ?? "";
  }

  const refType = ref.startsWith("refs/tags/") ? "tag" : "branch";
  const actor = input.actor ?? str(obj(payload.sender)?.login) ?? git.actor;
  const workflowRef =
    input.workflowRef ?? (input.workflowFile ? `${repository}/${input.workflowFile}@${ref}` : "");

  const ctx: Record<string, JsonValue> = {
    event_name: eventName,
    event: toJson(payload),
    event_path: input.eventPath ?? "",
    sha,
    ref,
    ref_name: refName(ref),
    ref_type: refType,
    ref_protected: false,
    base_ref: baseRef,
    head_ref: headRef,
    repository,
    repository_id: idString(repo?.id),
    repository_owner: repositoryOwner,
    repository_owner_id: idString(obj(repo?.owner)?.id),
    repositoryUrl: `git://${serverUrl.replace(/^[a-z]+:\/\//i, "")}/${repository}.git`,
    actor,
    actor_id: idString(obj(payload.sender)?.id),
    triggering_actor: actor,
    workspace: input.workspace,
    run_id: String(input.runId),
    run_number: String(input.runNumber),
    run_attempt: String(input.runAttempt),
    job: input.job ?? "",
    workflow: input.workflow,
    workflow_ref: workflowRef,
    workflow_sha: sha,
    server_url: serverUrl,
    api_url: apiUrl,
    graphql_url: graphqlUrl,
    action: "",
    action_path: "",
    action_ref: "",
    action_repository: "",
    action_status: "",
    retention_days: String(input.retentionDays ?? 90),
    secret_source: "None",
  };
  if (input.token !== undefined) ctx.token = input.token;
  return ctx;
}

/** `refs/heads/x` → `x`, `refs/tags/v1` → `v1`, `refs/pull/7/merge` → `7/merge`. */
function refName(ref: string): string {
  for (const prefix of ["refs/heads/", "refs/tags/", "refs/pull/"]) {
    if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  }
  return ref;
}

function defaultApiUrl(serverUrl: string): string {
  // github.com has a separate API host; GitHub Enterprise Server serves it under /api/v3.
  return /^https?:\/\/github\.com$/i.test(serverUrl)
    ? "https://api.github.com"
    : `${serverUrl}/api/v3`;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

function idString(v: unknown): string {
  return typeof v === "number" || typeof v === "string" ? String(v) : "";
}

/** The payload came from JSON (or was built as JSON), so a JSON round trip only drops `undefined`s. */
function toJson(v: Record<string, unknown>): JsonValue {
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

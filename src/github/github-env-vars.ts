import type { JsonValue } from "../workflow/model.ts";

/** Runner-side values for the default environment that the `github` context does not hold. */
export interface GithubEnvExtras {
  /** Guest path of the event payload file (`GITHUB_EVENT_PATH`). */
  eventPath: string;
  /** Guest path of the per-job temp dir (`RUNNER_TEMP`). */
  temp: string;
  /** Guest path of the tool cache (`RUNNER_TOOL_CACHE`). */
  toolCache: string;
  /** Overrides `github.workspace` for `GITHUB_WORKSPACE`. */
  workspace?: string;
  /** Default `actvm`. */
  runnerName?: string;
  /** `X64`, `ARM64`, ...; default from the host's architecture. */
  runnerArch?: string;
  /** Sets `RUNNER_DEBUG=1`, which actions read to log verbosely. */
  debug?: boolean;
}

const FROM_CONTEXT: ReadonlyArray<readonly [string, string]> = [
  ["GITHUB_SHA", "sha"],
  ["GITHUB_REF", "ref"],
  ["GITHUB_REF_NAME", "ref_name"],
  ["GITHUB_REF_TYPE", "ref_type"],
  ["GITHUB_REF_PROTECTED", "ref_protected"],
  ["GITHUB_REPOSITORY", "repository"],
  ["GITHUB_REPOSITORY_ID", "repository_id"],
  ["GITHUB_REPOSITORY_OWNER", "repository_owner"],
  ["GITHUB_REPOSITORY_OWNER_ID", "repository_owner_id"],
  ["GITHUB_RUN_ID", "run_id"],
  ["GITHUB_RUN_NUMBER", "run_number"],
  ["GITHUB_RUN_ATTEMPT", "run_attempt"],
  ["GITHUB_RETENTION_DAYS", "retention_days"],
  ["GITHUB_ACTOR", "actor"],
  ["GITHUB_ACTOR_ID", "actor_id"],
  ["GITHUB_TRIGGERING_ACTOR", "triggering_actor"],
  ["GITHUB_WORKFLOW", "workflow"],
  ["GITHUB_WORKFLOW_REF", "workflow_ref"],
  ["GITHUB_WORKFLOW_SHA", "workflow_sha"],
  ["GITHUB_EVENT_NAME", "event_name"],
  ["GITHUB_WORKSPACE", "workspace"],
  ["GITHUB_SERVER_URL", "server_url"],
  ["GITHUB_API_URL", "api_url"],
  ["GITHUB_GRAPHQL_URL", "graphql_url"],
  ["GITHUB_JOB", "job"],
  ["GITHUB_HEAD_REF", "head_ref"],
  ["GITHUB_BASE_REF", "base_ref"],
  ["GITHUB_ACTION", "action"],
  ["GITHUB_ACTION_PATH", "action_path"],
  ["GITHUB_ACTION_REPOSITORY", "action_repository"],
  ["GITHUB_ACTION_REF", "action_ref"],
];

/**
 * The default environment variables GitHub sets for every step, from a `github` context built
 * by {@link buildGithubContext} plus the runner's guest paths. Untrusted strings such as branch
 * names travel only as values here, never as shell source.
 *
 * @example
 * githubEnvVars(github, { eventPath: "/tmp/event.json", temp: "/tmp/runner", toolCache: "/opt/hostedtoolcache" });
 */
export function githubEnvVars(
  github: Record<string, JsonValue>,
  extras: GithubEnvExtras,
): Record<string, string> {
  const env: Record<string, string> = { CI: "true", GITHUB_ACTIONS: "true" };
  for (const [name, key] of FROM_CONTEXT) {
    const v = github[key];
    env[name] =
      v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  if (extras.workspace !== undefined) env.GITHUB_WORKSPACE = extras.workspace;
  env.GITHUB_EVENT_PATH = extras.eventPath;
  env.RUNNER_OS = "Linux";
  env.RUNNER_ARCH = extras.runnerArch ?? runnerArch(process.arch);
  env.RUNNER_NAME = extras.runnerName ?? "actvm";
  env.RUNNER_ENVIRONMENT = "self-hosted";
  env.RUNNER_TEMP = extras.temp;
  env.RUNNER_TOOL_CACHE = extras.toolCache;
  if (extras.debug) env.RUNNER_DEBUG = "1";
  return env;
}

/** GitHub's names for CPU architectures. */
function runnerArch(arch: string): string {
  switch (arch) {
    case "x64":
      return "X64";
    case "arm64":
      return "ARM64";
    case "arm":
      return "ARM";
    case "ia32":
      return "X86";
    default:
      return arch.toUpperCase();
  }
}

/** The `github` domain: local repository facts, event payloads, the `github` context and its environment. */
export { readGitInfo } from "./git-info.ts";
export type { GitInfo, GitCommit, GitChanges, GitPerson } from "./git-info.ts";
export { parseRemoteUrl } from "./parse-remote-url.ts";
export type { RepositoryName } from "./parse-remote-url.ts";
export { loadEventPayload, MAX_EVENT_PAYLOAD_BYTES } from "./load-event-payload.ts";
export { defaultEventPayload } from "./default-event-payload.ts";
export type { PayloadUrls } from "./default-event-payload.ts";
export { mergeEventPayload } from "./merge-event-payload.ts";
export { buildGithubContext } from "./build-github-context.ts";
export type { GithubContextInput } from "./build-github-context.ts";
export { githubEnvVars } from "./github-env-vars.ts";
export type { GithubEnvExtras } from "./github-env-vars.ts";

import { posix } from "node:path";
import type { Diagnostic, Parsed } from "../../shared/diagnostic.ts";
import type { UsesRef } from "./uses-ref.ts";

/** Where the `uses:` value sits, for diagnostics. */
export interface UsesLocation {
  file?: string;
  line?: number;
  col?: number;
}

// GitHub owners: letters, digits and single hyphens; other forges also allow `_` and `.`.
const OWNER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const REPO = /^[A-Za-z0-9_.-]+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * Parses a step's `uses:`: `./path` (an action in this repository), `owner/repo@ref` or
 * `owner/repo/sub/dir@ref` (a remote action), or `docker://image`. Paths that escape the
 * repository, a missing ref and characters git or GitHub would refuse give error diagnostics.
 *
 * @example
 * parseUsesReference("actions/setup-node@v4").value; // { kind: "remote", owner: "actions", repo: "setup-node", ref: "v4", ... }
 */
export function parseUsesReference(uses: string, where: UsesLocation = {}): Parsed<UsesRef> {
  const fail = (message: string, hint?: string): Parsed<UsesRef> => ({
    value: undefined,
    diagnostics: [
      {
        severity: "error",
        message,
        ...where,
        field: "uses",
        ...(hint ? { hint } : {}),
      } as Diagnostic,
    ],
  });
  const raw = uses.trim();
  if (raw === "")
    return fail("`uses:` is empty", "name an action, e.g. actions/setup-node@v4 or ./my-action");
  if (CONTROL.test(raw)) return fail("`uses:` contains a control character");

  if (/^docker:\/\//i.test(raw)) {
    const image = raw.slice("docker://".length);
    if (image === "" || /\s/.test(image)) {
      return fail(
        `invalid docker image in \`uses: ${raw}\``,
        "write docker://image:tag, e.g. docker://alpine:3.20",
      );
    }
    return { value: { kind: "docker", raw, image }, diagnostics: [] };
  }

  if (raw.startsWith("./") || raw === ".") {
    if (raw.includes("\\"))
      return fail(`\`uses: ${raw}\` uses backslashes`, "separate directories with /");
    const path = posix.normalize(raw);
    if (path === ".." || path.startsWith("../") || posix.isAbsolute(path)) {
      return fail(
        `\`uses: ${raw}\` points outside the repository`,
        "a local action must live inside the repository",
      );
    }
    return {
      value: { kind: "local", raw, path: path.replace(/\/+$/, "") || "." },
      diagnostics: [],
    };
  }
  if (raw.startsWith("../") || raw.startsWith("/")) {
    return fail(
      `\`uses: ${raw}\` points outside the repository`,
      "local actions start with ./ and stay inside the repository",
    );
  }

  const at = raw.indexOf("@");
  if (at < 0) {
    return fail(
      `\`uses: ${raw}\` has no version`,
      `pin a tag, branch or commit sha, e.g. ${raw}@v1`,
    );
  }
  const name = raw.slice(0, at);
  const ref = raw.slice(at + 1);
  if (ref === "") return fail(`\`uses: ${raw}\` has an empty version after @`, `e.g. ${name}@v1`);
  const refProblem = checkRef(ref);
  if (refProblem)
    return fail(`invalid version ${JSON.stringify(ref)} in \`uses: ${raw}\`: ${refProblem}`);

  const segs = name.split("/");
  const owner = segs[0] ?? "";
  const repo = segs[1] ?? "";
  if (segs.length < 2 || owner === "" || repo === "") {
    return fail(
      `\`uses: ${raw}\` is not owner/repo@ref`,
      "use owner/repo@ref, owner/repo/path@ref, ./local/path or docker://image",
    );
  }
  if (!OWNER.test(owner) || owner.length > 100)
    return fail(`invalid owner ${JSON.stringify(owner)} in \`uses: ${raw}\``);
  if (!REPO.test(repo) || repo === "." || repo === ".." || repo.length > 100) {
    return fail(`invalid repository name ${JSON.stringify(repo)} in \`uses: ${raw}\``);
  }
  const sub = segs.slice(2);
  for (const s of sub) {
    if (s === "" || s === "." || s === "..") {
      return fail(
        `invalid path in \`uses: ${raw}\``,
        "the path after owner/repo must not be empty or use . or ..",
      );
    }
    if (s.includes("\\"))
      return fail(`\`uses: ${raw}\` uses backslashes`, "separate directories with /");
  }
  return {
    value: {
      kind: "remote",
      raw,
      owner,
      repo,
      path: sub.length > 0 ? sub.join("/") : undefined,
      ref,
    },
    diagnostics: [],
  };
}

/** True for a full 40- or 64-hex-digit commit id. */
export function isFullSha(ref: string): boolean {
  return FULL_SHA.test(ref);
}

/** git's own rules for ref names (git-check-ref-format), which `git clone --branch` applies. */
function checkRef(ref: string): string | undefined {
  if (/[\s~^:?*[\\]/.test(ref)) return "it contains a space or one of ~ ^ : ? * [ \\";
  if (ref.startsWith("-")) return "it starts with -";
  if (ref.startsWith("/") || ref.endsWith("/") || ref.includes("//"))
    return "it has an empty path component";
  if (ref.includes("..")) return "it contains ..";
  if (ref.includes("@{")) return "it contains @{";
  if (ref.endsWith(".") || ref.endsWith(".lock")) return "it ends with . or .lock";
  if (ref.split("/").some((c) => c.startsWith("."))) return "a component starts with .";
  return undefined;
}

import { posix, win32 } from "node:path";

/** An `owner/name` pair derived from a git remote. */
export interface RepositoryName {
  owner: string;
  name: string;
  /** `true` when the remote is a path on disk, so the owner is the placeholder `local`. */
  local: boolean;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// scp-like `user@host:path`; git treats it so only when no slash precedes the first colon.
const SCP_LIKE = /^(?:[^@/]+@)?([^:/]+):(.+)$/;

/**
 * Derives `owner/name` from a remote URL the way a user reads it: https, ssh and git URLs and
 * scp-like `git@host:owner/name.git` give the last two path segments; a local path or
 * `file://` URL gives `local/<basename>`. Credentials in the URL are never part of the result.
 *
 * @example
 * parseRemoteUrl("git@github.com:octo/hello.git"); // { owner: "octo", name: "hello", local: false }
 */
export function parseRemoteUrl(url: string): RepositoryName | undefined {
  const trimmed = url.trim();
  if (trimmed === "") return undefined;
  const scheme = SCHEME.exec(trimmed);
  if (scheme) {
    const proto = scheme[1]!.toLowerCase();
    const rest = trimmed.slice(scheme[0].length);
    if (proto === "file") return localName(decodeSafe(rest.replace(/^[^/]*/, "")));
    const slash = rest.indexOf("/");
    if (slash < 0) return undefined;
    return fromSegments(rest.slice(slash + 1));
  }
  // A Windows drive path (`C:\x`) looks scp-like but is local.
  if (/^[a-z]:[\\/]/i.test(trimmed)) return localName(trimmed);
  const scp = SCP_LIKE.exec(trimmed);
  if (scp && !trimmed.slice(0, trimmed.indexOf(":")).includes("/")) {
    return fromSegments(scp[2]!.replace(/^~[^/]*\//, ""));
  }
  return localName(trimmed);
}

function fromSegments(path: string): RepositoryName | undefined {
  const segs = path
    .split(/[?#]/)[0]!
    .split("/")
    .filter((s) => s !== "");
  if (segs.length < 2) return undefined;
  const name = clean(stripGit(decodeSafe(segs[segs.length - 1]!)));
  const owner = clean(decodeSafe(segs[segs.length - 2]!));
  if (!name || !owner) return undefined;
  return { owner, name, local: false };
}

function localName(path: string): RepositoryName | undefined {
  const base = win32.basename(posix.basename(path.replace(/[\\/]+$/, "")));
  const name = clean(stripGit(base));
  return name ? { owner: "local", name, local: true } : undefined;
}

function stripGit(s: string): string {
  return s.endsWith(".git") && s.length > 4 ? s.slice(0, -4) : s;
}

/** Keeps the characters GitHub allows in owner and repository names. */
function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "");
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

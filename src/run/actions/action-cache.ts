import { randomBytes } from "node:crypto";
import { mkdir, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve as resolvePath, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { ActvmError } from "../../shared/errors.ts";
import { isFullSha } from "./parse-uses-reference.ts";
import { runGit } from "./run-git.ts";
import type { GitOutcome } from "./run-git.ts";
import type { UsesRef } from "./uses-ref.ts";

/** Where remote actions come from and where they are kept. */
export interface ActionCacheOptions {
  /** Directory that holds fetched actions as `<owner>/<repo>/<ref>`. */
  cacheDir: string;
  /** Clone URL prefix: `https://github.com`, a `file://` URL or an absolute path of bare repos. */
  baseUrl: string;
  /** Offline copies, `<owner>/<repo>@<ref>` or `<owner>/<repo>`, used before the cache. */
  localDir?: string;
  git?: { timeoutMs?: number };
}

/** Where a `uses:` reference was found. */
export interface ResolvedAction {
  /** The action's directory (the repository's sub-directory for `owner/repo/path@ref`). */
  dir: string;
  /** `action.yml` or `action.yaml` inside {@link dir}. */
  manifest: string;
  ref: UsesRef;
  source: "local" | "cache" | "git" | "localDir";
}

/** Locates and fetches the directories of `uses:` actions. */
export interface ActionCache {
  /**
   * Finds the action for `ref`: a local action inside `repoRoot`, else an offline copy, else the
   * cache, else a shallow git clone. Throws ACTION_RESOLVE {@link ActvmError}s.
   */
  resolve(ref: UsesRef, repoRoot: string, opts?: { signal?: AbortSignal }): Promise<ResolvedAction>;
}

const SUBSYSTEM = "run/actions";
const MANIFESTS = ["action.yml", "action.yaml"];
const DEFAULT_TIMEOUT_MS = 120_000;
// Temp clones older than this were left by a process that died mid-fetch.
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

/**
 * Creates an {@link ActionCache}. A remote action is cloned into a private temporary directory
 * and renamed into `<cacheDir>/<owner>/<repo>/<ref>` in one step, so concurrent resolves (in
 * this process or others) never see or leave a half-written copy. Cached copies are reused
 * until the cache directory is cleared.
 *
 * @example
 * const actions = createActionCache({ cacheDir: "~/.cache/actvm/actions", baseUrl: "https://github.com" });
 * const { dir } = await actions.resolve(parseUsesReference("actions/setup-node@v4").value!, repoRoot);
 */
export function createActionCache(options: ActionCacheOptions): ActionCache {
  const cacheDir = resolvePath(options.cacheDir);
  const timeoutMs = options.git?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const inFlight = new Map<string, Promise<string>>();
  let swept = false;

  async function resolve(
    ref: UsesRef,
    repoRoot: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ResolvedAction> {
    if (ref.kind === "docker") {
      throw new ActvmError("ACTION_RESOLVE", `${ref.raw}: docker:// actions are not supported`, {
        subsystem: SUBSYSTEM,
        hint: "run the image from a run: step instead",
      });
    }
    if (ref.kind === "local") return resolveLocal(ref, repoRoot);

    if (options.localDir !== undefined) {
      const base = resolvePath(options.localDir);
      for (const candidate of [
        join(base, ref.owner, `${ref.repo}@${ref.ref}`),
        join(base, ref.owner, ref.repo),
      ]) {
        if (await isDir(candidate)) return located(ref, candidate, "localDir");
      }
    }

    const finalDir = join(
      cacheDir,
      safeSegment(ref.owner),
      safeSegment(ref.repo),
      safeSegment(ref.ref),
    );
    if (await isDir(finalDir)) return located(ref, finalDir, "cache");

    let pending = inFlight.get(finalDir);
    if (!pending) {
      pending = fetchInto(ref.owner, ref.repo, ref.ref, finalDir, opts.signal).finally(() =>
        inFlight.delete(finalDir),
      );
      inFlight.set(finalDir, pending);
    }
    await pending;
    return located(ref, finalDir, "git");
  }

  async function resolveLocal(
    ref: UsesRef & { kind: "local" },
    repoRoot: string,
  ): Promise<ResolvedAction> {
    const root = await realpath(repoRoot).catch(() => {
      throw new ActvmError(
        "ACTION_RESOLVE",
        `${ref.raw}: the repository ${repoRoot} does not exist`,
        {
          subsystem: SUBSYSTEM,
        },
      );
    });
    const dir = join(root, ref.path);
    const real = await realpath(dir).catch(() => undefined);
    if (real === undefined || !(await isDir(real))) {
      throw new ActvmError("ACTION_RESOLVE", `${ref.raw}: no directory ${ref.path} in ${root}`, {
        subsystem: SUBSYSTEM,
        hint: "local actions are relative to the repository root and must be committed or present in the work tree",
      });
    }
    if (!isInside(root, real)) {
      throw new ActvmError(
        "ACTION_RESOLVE",
        `${ref.raw}: ${ref.path} leads outside the repository`,
        {
          subsystem: SUBSYSTEM,
          hint: "a local action must not be a symbolic link out of the repository",
        },
      );
    }
    return located(ref, real, "local");
  }

  async function located(
    ref: UsesRef,
    base: string,
    source: ResolvedAction["source"],
  ): Promise<ResolvedAction> {
    const dir = ref.kind === "remote" && ref.path ? join(base, ref.path) : base;
    if (!isInside(base, dir)) {
      throw new ActvmError(
        "ACTION_RESOLVE",
        `${ref.raw}: the action path leads outside its repository`,
        {
          subsystem: SUBSYSTEM,
        },
      );
    }
    for (const file of MANIFESTS) {
      const manifest = join(dir, file);
      if ((await stat(manifest).catch(() => undefined))?.isFile())
        return { dir, manifest, ref, source };
    }
    throw new ActvmError("ACTION_RESOLVE", `${ref.raw}: no action.yml or action.yaml in ${dir}`, {
      subsystem: SUBSYSTEM,
      hint:
        ref.kind === "remote"
          ? "check the path after owner/repo; the action's directory must hold its metadata file"
          : "add an action.yml to the directory, or fix the path in uses:",
    });
  }

  async function fetchInto(
    owner: string,
    repo: string,
    gitRef: string,
    finalDir: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const url = cloneUrl(options.baseUrl, owner, repo);
    const shown = redact(url, options.baseUrl);
    const tmpRoot = join(cacheDir, ".tmp");
    await mkdir(tmpRoot, { recursive: true });
    if (!swept) {
      swept = true;
      await sweepStale(tmpRoot);
    }
    const tmp = join(
      tmpRoot,
      `${safeSegment(owner)}-${safeSegment(repo)}-${randomBytes(6).toString("hex")}`,
    );
    const deadline = Date.now() + timeoutMs;
    const git = (args: string[], cwd?: string) =>
      runGit(args, { cwd, timeoutMs: deadline - Date.now(), ...(signal ? { signal } : {}) });
    const failWith = (out: GitOutcome): never => {
      if (out.aborted)
        throw new ActvmError("CANCELLED", `fetching ${owner}/${repo}@${gitRef}`, {
          subsystem: SUBSYSTEM,
        });
      const why = out.timedOut
        ? `git timed out after ${Math.round(timeoutMs / 1000)} s`
        : lastLines(redact(out.stderr, options.baseUrl));
      throw new ActvmError("ACTION_RESOLVE", `${owner}/${repo}@${gitRef} from ${shown}: ${why}`, {
        subsystem: SUBSYSTEM,
        hint: `check the action's name and version; to work offline, put a copy in ACTVM_ACTIONS_DIR as ${owner}/${repo}@${gitRef}`,
      });
    };

    try {
      if (isFullSha(gitRef)) {
        await mkdir(tmp);
        let out = await git(["init", "-q", tmp]);
        if (out.ok)
          out = await git(["fetch", "-q", "--depth", "1", "--no-tags", "--", url, gitRef], tmp);
        if (!out.ok && !out.aborted && !out.timedOut) {
          // Servers that refuse to serve an unadvertised commit: take the whole history instead.
          await rm(tmp, { recursive: true, force: true });
          out = await git(["clone", "-q", "--no-checkout", "--", url, tmp]);
          if (out.ok) out = await git(["checkout", "-q", "--detach", gitRef], tmp);
        } else if (out.ok) {
          out = await git(["checkout", "-q", "--detach", "FETCH_HEAD"], tmp);
        }
        if (!out.ok) failWith(out);
      } else {
        const out = await git([
          "clone",
          "-q",
          "--depth",
          "1",
          "--no-tags",
          "--branch",
          gitRef,
          "--",
          url,
          tmp,
        ]);
        if (!out.ok) failWith(out);
      }
      // The action needs its files, not its history.
      await rm(join(tmp, ".git"), { recursive: true, force: true });
      await mkdir(join(finalDir, ".."), { recursive: true });
      try {
        await rename(tmp, finalDir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another resolver (maybe another process) finished first; its copy is as good as ours.
        if (!((code === "ENOTEMPTY" || code === "EEXIST") && (await isDir(finalDir)))) throw err;
      }
      return finalDir;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  return { resolve };
}

async function sweepStale(tmpRoot: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpRoot).catch(() => [] as string[])) {
    const p = join(tmpRoot, name);
    const st = await stat(p).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_TMP_MS) await rm(p, { recursive: true, force: true });
  }
}

/** `<baseUrl>/<owner>/<repo>`; an absolute path becomes a `file://` URL so `--depth` applies. */
function cloneUrl(baseUrl: string, owner: string, repo: string): string {
  if (isAbsolute(baseUrl)) return pathToFileURL(join(baseUrl, owner, repo)).href;
  return `${baseUrl.replace(/\/+$/, "")}/${owner}/${repo}`;
}

/** Hides credentials from a base URL wherever they appear in `text`. */
function redact(text: string, baseUrl: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
  try {
    const u = new URL(baseUrl);
    for (const secret of [u.username, u.password, safeDecode(u.username), safeDecode(u.password)]) {
      if (secret.length >= 3) out = out.split(secret).join("***");
    }
  } catch {
    // Not a URL (a plain path): nothing secret in it.
  }
  return out;
}

/** Makes a name safe as one path segment without collisions (`/` → `%2F`, `%` → `%25`). */
function safeSegment(s: string): string {
  const enc = s.replace(/[^A-Za-z0-9._-]/g, (c) =>
    [...Buffer.from(c, "utf8")]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
      .join(""),
  );
  return enc === "." || enc === ".." ? enc.replace(/\./g, "%2E") : enc;
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() === true;
}

function lastLines(s: string): string {
  const lines = s
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.slice(-3).join("; ") || "git failed";
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

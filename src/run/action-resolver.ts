import path from "node:path";
import { readFile } from "node:fs/promises";
import { loadActionManifest, type ActionDef } from "../workflow/index.ts";
import { formatDiagnostic } from "../shared/diagnostic.ts";
import { ActvmError } from "../shared/errors.ts";
import { createActionCache, parseUsesReference, type ActionCacheOptions } from "./actions/index.ts";

/** An action ready to run: where its files are and what its manifest says. */
export interface ResolvedActionDir {
  /** Stable name for the action's copy inside the sandbox. */
  key: string;
  /** Host directory of the action. */
  dir: string;
  /** True for `./path` actions, which are already in the workspace. */
  local: boolean;
  /** For local actions: the path relative to the repository root. */
  relativePath?: string;
  manifest: ActionDef;
}

/** Turns a step's `uses:` into a runnable action. */
export interface ActionResolver {
  resolve(uses: string, repoDir: string, signal?: AbortSignal): Promise<ResolvedActionDir>;
}

/**
 * Resolves `uses:` references through the action cache (local path, offline directory, cache,
 * git) and parses their manifests with the same parser as workflows. Manifests are read once
 * per directory.
 */
export function createActionResolver(opts: ActionCacheOptions): ActionResolver {
  const cache = createActionCache(opts);
  const manifests = new Map<string, Promise<ActionDef>>();
  const loadManifest = (file: string, shown: string): Promise<ActionDef> => {
    let p = manifests.get(file);
    if (!p) {
      p = (async () => {
        const content = await readFile(file, "utf8");
        const parsed = loadActionManifest({ path: file, file: shown, content });
        if (!parsed.value) {
          throw new ActvmError(
            "ACTION_RESOLVE",
            `${shown} is not a valid action:\n${parsed.diagnostics.map(formatDiagnostic).join("\n")}`,
            {
              subsystem: "run/actions",
            },
          );
        }
        return parsed.value;
      })();
      manifests.set(file, p);
      p.catch(() => manifests.delete(file));
    }
    return p;
  };
  return {
    async resolve(uses, repoDir, signal) {
      const ref = parseUsesReference(uses);
      if (!ref.value) {
        throw new ActvmError("ACTION_RESOLVE", ref.diagnostics.map((d) => d.message).join("; "), {
          subsystem: "run/actions",
          ...(ref.diagnostics[0]?.hint ? { hint: ref.diagnostics[0].hint } : {}),
        });
      }
      if (ref.value.kind === "docker") {
        throw new ActvmError(
          "ACTION_RESOLVE",
          `${uses}: Docker actions are not supported; actvm runs no containers`,
          {
            subsystem: "run/actions",
            hint: "replace it with a run: step or a JavaScript/composite action",
          },
        );
      }
      const uref = ref.value;
      const found = await cache.resolve(uref, repoDir, signal ? { signal } : {});
      const local = uref.kind === "local";
      const remoteName =
        uref.kind === "remote"
          ? `${uref.owner}/${uref.repo}${uref.path ? "/" + uref.path : ""}@${uref.ref}`
          : "";
      const shown = local
        ? path.relative(repoDir, found.manifest)
        : `${remoteName}/${path.basename(found.manifest)}`;
      const manifest = await loadManifest(found.manifest, shown);
      const key =
        uref.kind === "remote"
          ? `${uref.owner}/${uref.repo}/${uref.ref}${uref.path ? "/" + uref.path : ""}`
          : `local/${uref.path}`;
      return {
        key: key.replace(/[^A-Za-z0-9._/-]/g, "_"),
        dir: found.dir,
        local,
        ...(local ? { relativePath: path.relative(repoDir, found.dir) } : {}),
        manifest,
      };
    },
  };
}

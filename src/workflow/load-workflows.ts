import { readFile, readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Diagnostic } from "../shared/diagnostic.ts";
import { loadWorkflow } from "./load-workflow.ts";
import type { WorkflowDef } from "./model.ts";

/** Every workflow found, and every problem found while finding and loading them. */
export interface LoadedWorkflows {
  workflows: WorkflowDef[];
  diagnostics: Diagnostic[];
}

/**
 * Loads the workflows of a repository: every `*.yml`/`*.yaml` in `workflowsPath` (default
 * `.github/workflows`, sorted by name), or just that file when it names one (act's `-W`). A
 * relative `workflowsPath` is taken from `repoRoot`. Missing or unreadable paths become
 * diagnostics; workflows that fail to load are left out and their diagnostics kept.
 *
 * @example
 * const { workflows, diagnostics } = await loadWorkflows("/src/app");
 */
export async function loadWorkflows(
  repoRoot: string,
  workflowsPath = ".github/workflows",
): Promise<LoadedWorkflows> {
  const workflows: WorkflowDef[] = [];
  const diagnostics: Diagnostic[] = [];
  const root = resolve(repoRoot);
  const target = isAbsolute(workflowsPath) ? workflowsPath : join(root, workflowsPath);
  const shown = (abs: string): string => {
    const rel = relative(root, abs);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split(sep).join("/") : abs;
  };

  let files: string[];
  try {
    const info = await stat(target);
    if (info.isDirectory()) {
      const entries = await readdir(target, { withFileTypes: true });
      files = entries
        .filter((e) => (e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/i.test(e.name))
        .map((e) => e.name)
        .sort()
        .map((name) => join(target, name));
      if (files.length === 0) {
        diagnostics.push({
          severity: "warning",
          message: `no workflow files (*.yml, *.yaml) in ${shown(target)}`,
          file: shown(target),
          hint: "put workflows in .github/workflows or pass the file or folder with -W",
        });
      }
    } else {
      files = [target];
    }
  } catch (err) {
    diagnostics.push({
      severity: "error",
      message: `cannot read ${shown(target)}: ${describe(err)}`,
      file: shown(target),
      hint: "check the path given with -W, or run actvm from the repository root",
    });
    return { workflows, diagnostics };
  }

  for (const path of files) {
    const file = shown(path);
    let content: string;
    try {
      content = await readFile(path, "utf8");
    } catch (err) {
      diagnostics.push({
        severity: "error",
        message: `cannot read ${file}: ${describe(err)}`,
        file,
      });
      continue;
    }
    const result = await loadWorkflow({ path, file, content });
    diagnostics.push(...result.diagnostics);
    if (result.value) workflows.push(result.value);
  }
  return { workflows, diagnostics };
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return err instanceof Error ? err.message : String(err);
}

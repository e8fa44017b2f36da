import { ActvmError } from "../shared/errors.ts";

const SUBSYSTEM = "image/initramfs";

/** A module to load: its name and its path inside the kernel's modules directory. */
export interface ModuleToLoad {
  name: string;
  path: string;
}

/**
 * Parses `modules.dep` and returns `wanted` with all dependencies, each after everything it
 * depends on. Wanted modules missing from the file fail: the kernel would boot without them.
 */
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): ModuleToLoad[] {
  const entries = new Map<string, { path: string; deps: string[] }>();
  const nameOf = (path: string): string =>
    (path.split("/").pop() ?? path).replace(/\.ko$/, "").replaceAll("-", "_");
  for (const line of modulesDep.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .split(/\s+/)
      .filter((d) => d.length > 0)
      .map(nameOf);
    entries.set(nameOf(path), { path, deps });
  }
  const out: ModuleToLoad[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, chain: string[]): void => {
    const seen = state.get(name);
    if (seen === "done") return;
    if (seen === "visiting") {
      throw new ActvmError(
        "IMAGE_BUILD",
        `module dependency cycle: ${[...chain, name].join(" → ")}`,
        {
          subsystem: SUBSYSTEM,
        },
      );
    }
    const entry = entries.get(name);
    if (!entry) {
      throw new ActvmError("IMAGE_BUILD", `modules.dep has no module ${JSON.stringify(name)}`, {
        subsystem: SUBSYSTEM,
      });
    }
    state.set(name, "visiting");
    for (const d of entry.deps) visit(d, [...chain, name]);
    state.set(name, "done");
    out.push({ name, path: entry.path });
  };
  for (const w of wanted) visit(w, []);
  return out;
}

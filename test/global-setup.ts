import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Builds dist/ once so end-to-end tests drive the same bundles users run. */
export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs"], {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  });
}

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ActvmError } from "../shared/errors.ts";

/**
 * Absolute path of the built guest agent (`agent.cjs`): beside the running bundle (dist/cli.mjs
 * and dist/index.mjs sit next to it), else in dist/ of the source checkout.
 *
 * @example
 * spawn("node", [agentBundlePath()], { stdio: ["pipe", "pipe", "inherit"] });
 */
export function agentBundlePath(): string {
  const candidates = [
    new URL("./agent.cjs", import.meta.url),
    new URL("../../dist/agent.cjs", import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new ActvmError(
    "SANDBOX_UNAVAILABLE",
    `the guest agent bundle is missing (looked at ${candidates.join(", ")})`,
    {
      subsystem: "guest",
      hint: "run `npm run build` to create dist/agent.cjs",
    },
  );
}

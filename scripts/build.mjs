// Builds the CLI and library bundles (ESM, Node 20) and the guest agent (CJS, Node 18, no deps).
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = (p) => `${root}/${p}`;

const common = {
  bundle: true,
  platform: "node",
  sourcemap: "linked",
  logLevel: "warning",
  absWorkingDir: root,
};

// The guest agent must stay a single dependency-free file that Debian 12's Node 18 can run.
await build({
  ...common,
  entryPoints: [entry("src/guest/agent/main.ts")],
  outfile: entry("dist/agent.cjs"),
  format: "cjs",
  target: "node18",
});

const hostEntries = [
  ["src/cli/main.ts", "dist/cli.mjs"],
  ["src/index.ts", "dist/index.mjs"],
].filter(([src]) => existsSync(entry(src)));

// ACTVM_BUILD_AGENT_ONLY=1 builds just the agent (unit tests of the guest need no more).
const onlyAgent = process.env.ACTVM_BUILD_AGENT_ONLY === "1";
for (const [src, out] of onlyAgent ? [] : hostEntries) {
  await build({
    ...common,
    entryPoints: [entry(src)],
    outfile: entry(out),
    format: "esm",
    target: "node20",
    // Native addon: loaded from node_modules at run time.
    external: ["better-sqlite3"],
    // Bundled CommonJS dependencies (yaml, ...) call require(); give ESM output one.
    banner: {
      js: "import { createRequire as __actvmCreateRequire } from 'node:module'; const require = __actvmCreateRequire(import.meta.url);",
    },
  });
}

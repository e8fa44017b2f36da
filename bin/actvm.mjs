#!/usr/bin/env node
// Entry point for `npx actvm`. The CLI is bundled to dist/ by `npm install` (prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(
    "actvm: dist/cli.mjs is missing; run `npm run build` in the actvm checkout\n",
  );
  process.exit(2);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));

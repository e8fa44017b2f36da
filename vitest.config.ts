import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // @actions/workflow-parser imports a JSON file without an import attribute
    // (actions/languageservices#387); inlining lets Vite transform it.
    server: { deps: { inline: [/@actions\/(workflow-parser|expressions)/] } },
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});

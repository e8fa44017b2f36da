import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".test-cache/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read configuration through loadConfig() in src/shared/config.ts.",
        },
      ],
    },
  },
  {
    // config.ts reads the environment; main.ts hands it to commands; the agent, tests, benches
    // and scripts are not part of the configured program.
    files: [
      "src/shared/config.ts",
      "src/cli/main.ts",
      "**/*.test.ts",
      "**/*.test-support.ts",
      "test/**",
      "bench/**",
      "scripts/**",
      "src/guest/agent/**",
      "bin/**",
    ],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", URL: "readonly", console: "readonly" } },
  },
);

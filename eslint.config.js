// Type-checked lint rules over the sources, tests, benchmarks and scripts (run by .ci/run).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "demo-studio/**", "bin/**", "eslint.config.js"] },
  // the import rules (.dependency-cruiser.cjs) are CommonJS outside the TypeScript project
  { ignores: [".dependency-cruiser.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: "./tsconfig.check.json", tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "it", "describe", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      // Generators and object-literal getters cannot be arrow functions: `self` is how they reach the instance.
      "@typescript-eslint/no-this-alias": ["error", { allowedNames: ["self"] }],
      // `_`-prefixed names are deliberately unused (interface parameters, destructuring to drop a key).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
);

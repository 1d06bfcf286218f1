import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    // The engine is the functional core: no clock, no randomness, no I/O.
    files: ["server/engine/**/*.ts"],
    rules: {
      "no-restricted-globals": ["error", "fetch", "setTimeout", "setInterval", "performance", "process"],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "the engine gets time from events" },
        { object: "Math", property: "random", message: "the engine is deterministic" },
      ],
      "no-restricted-syntax": ["error", { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "the engine gets time from events" }],
      "no-restricted-imports": [
        "error",
        { patterns: ["node:*", "fs", "net", "http", "next", "next/*", "socket.io", "@prisma/*", "../db/*", "../*"] },
      ],
    },
  },
  globalIgnores([".next/**", "node_modules/**", "server/db/generated/**", "data/**", "test-results/**", "playwright-report/**", "next-env.d.ts"]),
]);

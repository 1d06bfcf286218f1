import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

const isCI = process.env.CI === "true" || process.env.CI === "1";
const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;
// A fresh embedded database for every run; the workers and the teardown (which stops its
// PostgreSQL should the server not have) inherit the folder through the environment.
process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-e2e-"));
const dataDir = process.env.E2E_DATA_DIR;

export default defineConfig({
  testDir: "e2e",
  forbidOnly: isCI,
  retries: 0,
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: isCI ? [["list"]] : [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  globalTeardown: "./e2e/global-teardown.ts",
  webServer: {
    // The production server; `npm test` builds Next first (see test/run-all.mjs).
    command: "node --import tsx server/main.ts",
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    // SIGTERM: the server stops its embedded PostgreSQL after its last commit.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    timeout: 120_000,
    stdout: "pipe",
    env: {
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      RISKGATE_DATA_DIR: dataDir,
      // The demo's accounts without its trading: the specs drive the account themselves.
      RISKGATE_DEMO: "accounts",
      NEXT_TELEMETRY_DISABLED: "1",
      // The same values as e2e/fixtures.ts.
      RISKGATE_ADMIN_TOKEN: "rg_e2e_admin_token_0123456789abcdef",
      RISKGATE_ADMIN_PASSWORD: "e2e-admin-password",
    },
  },
});

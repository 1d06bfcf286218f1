import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEMO_ACCOUNT } from "../test/fixtures";
import { E2E_ADMIN_PASSWORD, E2E_ADMIN_TOKEN, expect, test } from "./fixtures";

/**
 * Connection honesty: a server of this spec's own, stopped and started again within the test.
 * While it is down the console says so and when its data went stale; when it is back, the
 * console catches up from its last seq, including what happened before it reconnected.
 */

const PORT = Number(process.env.E2E_CONNECTION_PORT ?? 3233);
const base = `http://127.0.0.1:${PORT}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-e2e-connection-"));

function start(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(PORT),
      HOST: "127.0.0.1",
      RISKGATE_DATA_DIR: dataDir,
      RISKGATE_DEMO: "accounts",
      NEXT_TELEMETRY_DISABLED: "1",
      RISKGATE_ADMIN_TOKEN: E2E_ADMIN_TOKEN,
      RISKGATE_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start in 60 s:\n${output}`)), 60_000);
    child.stdout!.on("data", () => {
      if (/Riskgate listening on/.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

test("shows disconnected and stale since when the server goes away, and resyncs from its last seq when it is back", async ({ page, playwright }) => {
  test.setTimeout(120_000);
  let server = await start();
  const admin = await playwright.request.newContext({ baseURL: base, extraHTTPHeaders: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  try {
    await page.goto(base);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(E2E_ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByTestId("connection-status")).toHaveText("connected");
    const row = page.locator(`[data-testid="account-row"][data-account="${DEMO_ACCOUNT}"]`);
    await expect(row.getByTestId("trading-state")).toHaveText("ACTIVE");
    await expect(page.getByTestId("stale-note")).toHaveCount(0);

    await stop(server);
    await expect(page.getByTestId("connection-status")).toHaveText("disconnected");
    await expect(page.getByTestId("stale-note").first()).toHaveText(/^stale since \d{2}:\d{2}:\d{2}$/);
    await expect(page.locator("main")).toHaveClass(/stale/);

    // Back, and the manual breaker trips at once: the console must catch that up too.
    server = await start();
    expect((await admin.post(`/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, { data: { reason: "e2e: tripped while the console was away" } })).status()).toBe(200);
    await expect(page.getByTestId("connection-status")).toHaveText("connected", { timeout: 30_000 });
    await expect(page.getByTestId("stale-note")).toHaveCount(0);
    await expect(row.getByTestId("trading-state")).toHaveText("HALTED");
    const serverSeq = (await (await admin.get("/api/health")).json()).seq as number;
    await expect(page.getByTestId("connection-seq")).toHaveText(`seq ${serverSeq}`);
  } finally {
    await admin.dispose();
    await stop(server);
  }
});

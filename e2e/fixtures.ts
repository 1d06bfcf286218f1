import fs from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import { test as base, expect } from "@playwright/test";

/** Seeded by playwright.config.ts (RISKGATE_ADMIN_TOKEN / RISKGATE_ADMIN_PASSWORD). */
export const E2E_ADMIN_TOKEN = "rg_e2e_admin_token_0123456789abcdef";
export const E2E_ADMIN_PASSWORD = "e2e-admin-password";

/** Console users the specs log in as, created through the API by the admin token. */
export const users = {
  riskManager: { username: "rm-e2e", password: "risk-manager-pass-1", role: "risk_manager" },
  viewer: { username: "viewer-e2e", password: "viewer-pass-12345", role: "viewer" },
} as const;

/** Logs in through the form, as a person would, and waits for the live console. */
export async function logIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("current-user")).toContainText(user.username);
  await expect(page.getByTestId("connection-status")).toHaveText("connected");
}

/** `api`: an admin program's view of the HTTP API (bearer token), beside the browser's session. */
export const test = base.extend<{ api: APIRequestContext; consoleUsers: void }>({
  api: async ({ playwright, baseURL }, use) => {
    const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
    await use(api);
    await api.dispose();
  },
  // Before every test: the console users exist (409 when an earlier test created them).
  consoleUsers: [
    async ({ api }, use) => {
      for (const user of Object.values(users)) {
        const created = await api.post("/api/v1/users", { data: { ...user, accounts: null } });
        expect([201, 409]).toContain(created.status());
      }
      await use();
    },
    { auto: true },
  ],
});

export { expect };

/**
 * A full-page screenshot (or the viewport's, `fullPage: false`) as a test artifact (test-results/…/<name>.png); with
 * RISKGATE_SCREENSHOTS=docs (`npm run screenshots`) also as docs/screenshots/<name>.png, the
 * pictures README shows.
 */
export async function saveScreenshot(page: Page, name: string, { fullPage = true }: { fullPage?: boolean } = {}): Promise<void> {
  const info = base.info();
  const file = info.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage });
  await info.attach(name, { path: file, contentType: "image/png" });
  if (process.env.RISKGATE_SCREENSHOTS === "docs") {
    fs.mkdirSync("docs/screenshots", { recursive: true });
    await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage });
  }
}

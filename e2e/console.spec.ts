import type { APIRequestContext, Page } from "@playwright/test";
import { DEMO_ACCOUNT, EURUSD_TICK } from "../test/fixtures";
import { E2E_ADMIN_PASSWORD, expect, logIn, saveScreenshot, test, users } from "./fixtures";

/** The console's frame and firm overview: who is logged in, what they may do, the accounts closest to a limit. */

const E8 = "demo-e8-50k";
const strategy = { username: "strategy-e2e", password: "strategy-pass-1234", role: "strategy" } as const;

const rows = (page: Page) => page.getByTestId("account-row");

/** How many accounts the firm has (other specs may have opened some). */
async function accountCount(api: APIRequestContext): Promise<number> {
  return ((await (await api.get("/api/v1/accounts")).json()).accounts as unknown[]).length;
}

test("each role logs in, sees its name and role, and is offered only what it may do", async ({ page, api }) => {
  const created = await api.post("/api/v1/users", { data: { ...strategy, accounts: [DEMO_ACCOUNT] } });
  expect([201, 409]).toContain(created.status());
  const total = await accountCount(api);

  for (const user of [users.viewer, users.riskManager, { username: "admin", password: E2E_ADMIN_PASSWORD }, strategy]) {
    await logIn(page, user);
    await expect(page.getByTestId("current-user")).toContainText(user.username);
    const operator = user.username === users.riskManager.username || user.username === "admin";
    await expect(page.getByRole("button", { name: "Halt all" })).toHaveCount(operator ? 1 : 0);
    // A strategy token or user sees only its own accounts.
    await expect(rows(page)).toHaveCount(user.username === strategy.username ? 1 : total);
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByLabel("Username")).toBeVisible();
  }
});

test("the overview puts the account closest to a loss limit first and filters", async ({ page, api }) => {
  // demo-e8-50k (E8 One: 3% of the day's balance, 1,500 USD) loses 1,300 USD on paper.
  expect((await api.post("/api/v1/market", { data: EURUSD_TICK })).status()).toBe(200);
  const fill = { accountId: E8, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085, trigger: "order" };
  expect((await api.post("/api/v1/executions", { data: { fills: [fill], correction: { reason: "e2e: book a position" } } })).status()).toBe(200);
  expect((await api.post("/api/v1/market", { data: { ticks: [{ symbol: "EURUSD", price: 1.072 }] } })).status()).toBe(200);

  await logIn(page, users.riskManager);
  const first = rows(page).first();
  await expect(first).toHaveAttribute("data-account", E8);
  const daily = first.getByRole("meter", { name: `Today's permitted loss left for ${E8}` });
  expect(Number(await daily.getAttribute("value"))).toBeLessThan(25);
  await expect(first).toContainText("-$1,300");

  await page.getByLabel("Filter").fill("institutional");
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toHaveAttribute("data-account", "demo-inst-1m");
  await page.getByLabel("Filter").fill("");
  await expect(rows(page)).toHaveCount(await accountCount(api));
  await saveScreenshot(page, "overview");

  // Flat again, so the other specs start from a quiet account.
  await api.post("/api/v1/market", { data: EURUSD_TICK });
  await api.post("/api/v1/executions", { data: { fills: [{ ...fill, side: "SELL" }], correction: { reason: "e2e: book a position" } } });
});

test("Halt all needs a reason, names how many accounts it halts, and Resume all lifts it", async ({ page, api }) => {
  const total = await accountCount(api);
  await logIn(page, users.riskManager);
  await page.getByRole("button", { name: "Halt all" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Halt all ${total} accounts?`);
  const confirm = dialog.getByRole("button", { name: "Halt every account" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Reason").fill("e2e: exchange outage");
  await confirm.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("firm-halt")).toContainText("e2e: exchange outage");
  await expect(rows(page).getByTestId("trading-state")).toHaveText(Array<string>(total).fill("HALTED"));

  await page.getByRole("button", { name: "Resume all" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("e2e: exchange back");
  await page.getByRole("dialog").getByRole("button", { name: "Resume every account" }).click();
  await expect(page.getByTestId("firm-halt")).toHaveCount(0);
  await expect(rows(page).getByTestId("trading-state")).toHaveText(Array<string>(total).fill("ACTIVE"));
});

test("the theme switches to light and back, and is kept across a reload", async ({ page }) => {
  await logIn(page, users.viewer);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.getByRole("button", { name: "Switch to the light theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
});

test("the overview fits a 1920x1080 wall screen", async ({ page, api }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await logIn(page, users.viewer);
  await expect(rows(page)).toHaveCount(await accountCount(api));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await saveScreenshot(page, "overview-wall");
});

import AxeBuilder from "@axe-core/playwright";
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, logIn, saveScreenshot, test, users } from "./fixtures";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../test/fixtures";

/**
 * Every page of the console under axe (WCAG 2.x A and AA rules and best practices) in both
 * themes, with the colours that carry meaning on screen (a HALTED badge, a denial, a loss, an
 * invalid field, a breached backtest); and the overview and an account's page on a 390 px phone.
 */

const HALTED = "demo-e8-50k";
const PRESET = "ftmo-2step-100k";

/** Serious and critical violations on the page as it is, each with the elements that fail. */
async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => `${node.target.join(" ")} (${node.failureSummary?.split("\n").at(-1)?.trim() ?? ""})`).join("; ")}`);
}

/** No serious or critical violation in the dark theme, then in the light one (back to dark after). */
async function expectAccessibleInBothThemes(page: Page, what: string): Promise<void> {
  expect(await seriousViolations(page), `${what}, dark theme`).toEqual([]);
  await page.getByRole("button", { name: "Switch to the light theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(await seriousViolations(page), `${what}, light theme`).toEqual([]);
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
}

/**
 * The desk with something in red: the E8 account halted by its manual breaker and down on an
 * EURUSD position, one of its entries denied, one of the FTMO account's allowed. Undone by `calm`.
 */
async function redDesk(api: APIRequestContext): Promise<() => Promise<void>> {
  expect((await api.post("/api/v1/market", { data: EURUSD_TICK })).status()).toBe(200);
  const fill = { accountId: HALTED, symbol: "EURUSD", side: "BUY", quantity: 0.2, price: 1.085, trigger: "order" };
  expect((await api.post("/api/v1/executions", { data: { fills: [fill], correction: { reason: "e2e: a losing position" } } })).status()).toBe(200);
  expect((await api.post("/api/v1/market", { data: { ticks: [{ symbol: "EURUSD", price: 1.08 }] } })).status()).toBe(200);
  expect((await api.post(`/api/v1/accounts/${HALTED}/breakers/manual/trip`, { data: { reason: "e2e: accessibility" } })).status()).toBe(200);
  const stamp = Date.now();
  const denied = await api.post("/api/v1/intents", { data: sampleIntent(`e2e-a11y-denied-${stamp}`, { accountId: HALTED, quantity: 0.1 }) });
  expect((await denied.json()).decision).toMatchObject({ outcome: "denied" });
  const allowed = await api.post("/api/v1/intents", { data: sampleIntent(`e2e-a11y-allowed-${stamp}`, { quantity: 0.1 }) });
  expect((await allowed.json()).decision).toMatchObject({ outcome: "allowed" });
  return async () => {
    await api.post(`/api/v1/accounts/${HALTED}/breakers/manual/reset`, { data: { reason: "e2e: done" } });
    await api.post("/api/v1/market", { data: EURUSD_TICK });
    await api.post("/api/v1/executions", { data: { fills: [{ ...fill, side: "SELL", price: 1.085 }], correction: { reason: "e2e: flat again" } } });
  };
}

test("the overview and an account's page have no serious accessibility violation in either theme", async ({ page, api }) => {
  const calm = await redDesk(api);
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    await logIn(page, users.riskManager);
    const halted = page.locator(`[data-testid="account-row"][data-account="${HALTED}"]`);
    await expect(halted.getByTestId("trading-state")).toHaveText("HALTED");
    await expect(page.getByTestId("decision-row").filter({ hasText: "denied" }).first()).toBeVisible();
    await expectAccessibleInBothThemes(page, "overview");

    await page.goto(`/accounts/${HALTED}`);
    await expect(page.getByTestId("trading-state")).toHaveText("HALTED");
    await expect(page.getByTestId("decision-row").first()).toBeVisible();
    await expectAccessibleInBothThemes(page, "account page");
  } finally {
    await calm();
  }
});

test("the presets page (an invalid figure, a dry-run's result) has no serious accessibility violation in either theme", async ({ page, api }) => {
  expect((await api.post("/api/v1/market", { data: EURUSD_TICK })).status()).toBe(200);
  expect((await api.post("/api/v1/intents", { data: sampleIntent(`e2e-a11y-preset-${Date.now()}`, { quantity: 0.5 }) })).status()).toBe(200);
  await page.setViewportSize({ width: 1440, height: 900 });
  await logIn(page, users.riskManager);
  await page.goto(`/presets?preset=${PRESET}`);
  const maxLoss = page.getByRole("group", { name: "Account rules" }).getByRole("spinbutton", { name: "Max loss (%)" });
  await maxLoss.fill("-5");
  await expect(maxLoss).toHaveAttribute("aria-invalid", "true");
  await expectAccessibleInBothThemes(page, "presets, an invalid figure");

  await maxLoss.fill("10");
  await page.getByRole("group", { name: "Throttle" }).getByRole("spinbutton", { name: "Max order notional (USD)" }).fill("20000");
  await page.getByRole("combobox", { name: "Account", exact: true }).selectOption(DEMO_ACCOUNT);
  await page.getByRole("button", { name: "Dry-run the draft" }).click();
  await expect(page.getByTestId("dry-change").first()).toBeVisible();
  await expectAccessibleInBothThemes(page, "presets, a dry-run's result");
});

test("a backtest's page and its replay have no serious accessibility violation in either theme", async ({ page, api }) => {
  test.setTimeout(120_000);
  const started = await api.post("/api/v1/backtests", { data: { dataset: "msft-2000-2001-daily", preset: PRESET, strategy: "reckless", seed: 3 } });
  expect(started.status()).toBe(202);
  const { id } = (await started.json()) as { id: string };
  await expect
    .poll(async () => ((await (await api.get(`/api/v1/backtests/${id}`)).json()) as { backtest: { status: string } }).backtest.status, { timeout: 90_000 })
    .toBe("done");

  await page.setViewportSize({ width: 1280, height: 900 });
  await logIn(page, users.riskManager);
  await page.goto(`/backtests?run=${id}`);
  await expect(page.getByTestId("backtest-run").getByTestId("run-status")).toHaveText("done");
  await expect(page.getByTestId("compliance")).toBeVisible();
  // The run form's data choice: radios with targets of at least 24 px.
  for (const radio of await page.getByRole("radio").all()) {
    const box = (await radio.evaluate((node) => node.closest("label")!.getBoundingClientRect().toJSON())) as DOMRect;
    expect(box.height).toBeGreaterThanOrEqual(24);
  }
  await expectAccessibleInBothThemes(page, "backtests");

  await page.goto(`/replay?backtest=${id}`);
  await expect(page.getByTestId("replay-mismatches")).toHaveText("0");
  await expect(page.getByTestId("replay-decision").first()).toBeVisible();
  // Quantities to at most 4 decimals.
  for (const cell of await page.getByTestId("replay-decision").locator("td:nth-child(3)").allTextContents()) expect(cell).not.toMatch(/\.\d{5,}/);
  await expectAccessibleInBothThemes(page, "replay");
});

test("on a 390 px phone the overview and an account's page fit the width, and a decision reads to its outcome", async ({ page, api }) => {
  const calm = await redDesk(api);
  try {
    await page.setViewportSize({ width: 390, height: 844 });
    await logIn(page, users.riskManager);
    const documentWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    await expect(page.getByTestId("account-row").first()).toBeVisible();
    expect(await documentWidth()).toBeLessThanOrEqual(390);
    // The firm's feed reflows: a decision's outcome and reason are within the screen, not cut off in a sideways scroll.
    const decision = page.getByTestId("decision-row").first();
    await decision.scrollIntoViewIfNeeded();
    for (const cell of [decision.locator(".badge"), decision.locator("td").last()]) {
      const box = (await cell.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    // Each account row shows both allowances, labelled, without overlapping the next row.
    const rows = page.getByTestId("account-row");
    await expect(rows.first()).toContainText("Today left");
    await expect(rows.first()).toContainText("Max left");
    const [first, second] = [await rows.nth(0).boundingBox(), await rows.nth(1).boundingBox()];
    const firstContent = await rows.nth(0).evaluate((node) => Math.max(...[...node.querySelectorAll("*")].map((child) => child.getBoundingClientRect().bottom)));
    expect(firstContent).toBeLessThanOrEqual(second!.y + 1);
    expect(first!.x + first!.width).toBeLessThanOrEqual(390);
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, "overview-phone");

    await page.goto(`/accounts/${HALTED}`);
    await expect(page.getByTestId("trading-state")).toHaveText("HALTED");
    await expect(page.getByTestId("decision-row").first()).toBeVisible();
    expect(await documentWidth()).toBeLessThanOrEqual(390);
    const outcome = page.getByTestId("decision-row").first().locator(".badge");
    const box = (await outcome.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, "account-phone");
  } finally {
    await calm();
  }
});

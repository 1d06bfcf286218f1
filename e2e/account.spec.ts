import type { APIRequestContext, Page } from "@playwright/test";
import { expect, logIn, saveScreenshot, test, users } from "./fixtures";
import { DEMO_ACCOUNT as ACCOUNT, sampleIntent } from "../test/fixtures";

async function openAccount(page: Page, accountId = ACCOUNT): Promise<void> {
  await page.goto(`/accounts/${accountId}`);
  await expect(page.getByTestId("connection-status")).toHaveText("connected");
}

async function ticks(api: APIRequestContext, prices: Record<string, number>): Promise<void> {
  const response = await api.post("/api/v1/market", { data: { ticks: Object.entries(prices).map(([symbol, price]) => ({ symbol, price })) } });
  expect(response.status()).toBe(200);
}

test("the account page shows the account's trades: positions, exposure and an equity chart of at most ~1,000 points a series", async ({ page, api }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await logIn(page, users.riskManager);
  await openAccount(page);
  await expect(page.getByTestId("account-id")).toHaveText(ACCOUNT);
  await expect(page.getByTestId("trading-state")).toHaveText("ACTIVE");

  // A few trades: prices, two fills, then the market moves.
  await ticks(api, { EURUSD: 1.085, XAUUSD: 2350 });
  const fills = await api.post("/api/v1/executions", {
    data: {
      fills: [
        { accountId: ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 2, price: 1.085, trigger: "order" },
        { accountId: ACCOUNT, symbol: "XAUUSD", side: "SELL", quantity: 1, price: 2350, trigger: "order" },
      ],
      correction: { reason: "e2e: book positions" },
    },
  });
  expect(fills.status()).toBe(200);
  for (const [eurusd, xauusd] of [
    [1.0856, 2348],
    [1.0843, 2353],
    [1.0838, 2357],
    [1.0861, 2346],
    [1.0874, 2341],
    [1.0869, 2344],
  ] as const) {
    await ticks(api, { EURUSD: eurusd, XAUUSD: xauusd });
    // The server records an account's equity at most once a second (conflated): one move a second.
    await page.waitForTimeout(1_000);
  }

  // A decision of each kind, and a timed lock, for the registry and the feed.
  const allowed = await api.post("/api/v1/intents", { data: sampleIntent("e2e-shot-1", { quantity: 1 }) });
  expect((await allowed.json()).decision).toMatchObject({ outcome: "allowed" });
  const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
  const lock = await api.post(`/api/v1/accounts/${ACCOUNT}/vetoes`, { data: { symbol: "US500", reason: "e2e: index rebalance", expiresAt: inAnHour } });
  expect(lock.status()).toBe(201);
  await api.post("/api/v1/intents", { data: sampleIntent("e2e-shot-2", { symbol: "US500", quantity: 1 }) });
  await expect(page.getByTestId("decision-row").filter({ hasText: "e2e-shot-2" })).toHaveAttribute("data-outcome", "denied");
  await expect(page.locator('[data-testid="veto-row"][data-target="US500"]')).toContainText("e2e: index rebalance");

  const positions = page.getByTestId("position-row");
  await expect(positions).toHaveCount(2);
  await expect(positions.filter({ hasText: "EURUSD" })).toContainText("long");
  await expect(positions.filter({ hasText: "XAUUSD" })).toContainText("short");
  await expect(page.getByRole("meter", { name: /By cluster fx-majors/ })).toBeVisible();
  await expect(page.getByTestId("audit-row").filter({ hasText: "fill BUY 2 EURUSD at 1.085" })).toBeVisible();

  // The chart: the range buttons say which is on; the data and the drawn line stay within ~1,000 points.
  const chart = page.getByTestId("equity-chart");
  await expect.poll(async () => Number(await chart.getAttribute("data-points")), { timeout: 15_000 }).toBeGreaterThan(3);
  const requested = Number(await chart.getAttribute("data-requested-points"));
  expect(requested).toBeLessThanOrEqual(1_000);
  expect(Number(await chart.getAttribute("data-points"))).toBeLessThanOrEqual(requested);
  const vertices = await chart.locator("path.recharts-line-curve").evaluateAll((paths) => paths.map((p) => (p.getAttribute("d") ?? "").match(/[ML]/g)?.length ?? 0));
  expect(vertices.length).toBe(4);
  expect(vertices[0]).toBeGreaterThan(1);
  expect(vertices[0]).toBeLessThanOrEqual(1_000);
  const oneHour = page.getByRole("group", { name: "Chart range" }).getByRole("button", { name: "1h" });
  await oneHour.focus();
  await page.keyboard.press("Enter");
  await expect(oneHour).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("group", { name: "Chart range" }).getByRole("button", { name: "1d" })).toHaveAttribute("aria-pressed", "false");
  await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThan(3);

  // The grid of panels fits both common screens without scrolling sideways.
  for (const viewport of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(viewport);
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
  }

  await saveScreenshot(page, "account");
});

test("a risk manager unlocks a symbol locked through the API, with a reason, and a denied entry opens in full", async ({ page, api }) => {
  await logIn(page, users.riskManager);
  await openAccount(page);

  const locked = await api.post(`/api/v1/accounts/${ACCOUNT}/vetoes`, { data: { symbol: "USDJPY", reason: "e2e: news at 14:30" } });
  expect(locked.status()).toBe(201);
  const row = page.locator('[data-testid="veto-row"][data-target="USDJPY"]');
  await expect(row).toContainText("e2e: news at 14:30");
  await expect(row).toContainText("until reset");

  // An entry in the locked symbol is denied live; its row opens the whole decision from the keyboard.
  await ticks(api, { USDJPY: 151.2 });
  const denied = await api.post("/api/v1/intents", { data: sampleIntent("e2e-locked-1", { symbol: "USDJPY", quantity: 1, slPrice: 150.7 }) });
  expect((await denied.json()).decision).toMatchObject({ outcome: "denied", guard: "veto_registry", reason: "symbol_locked" });
  const decision = page.getByTestId("decision-row").filter({ hasText: "e2e-locked-1" });
  await expect(decision).toHaveAttribute("data-outcome", "denied");
  await page.getByLabel("Filter decisions by reason").selectOption("symbol_locked");
  await page.getByLabel("Filter decisions by symbol").fill("usdjpy");
  await expect(page.getByTestId("decision-row")).toHaveCount(1);
  await decision.getByRole("button", { name: "Open decision e2e-locked-1" }).focus();
  await page.keyboard.press("Enter");
  const detail = page.getByTestId("decision-detail");
  await expect(detail).toBeVisible();
  await expect(detail).toContainText("veto_registry");
  await expect(detail).toContainText("symbol_locked");
  await expect(detail).toContainText("OPEN BUY USDJPY");
  await expect(detail).toContainText("strategy test-strategy");
  await expect(detail).toContainText("150.7");
  // Every guard with its part: the halt and parameters passed, the registry denied, the rest not reached.
  const steps = detail.getByTestId("guard-steps");
  await expect(steps.locator('[data-guard="trading_state"]')).toHaveAttribute("data-status", "passed");
  await expect(steps.locator('[data-guard="veto_registry"]')).toHaveAttribute("data-status", "denied");
  await expect(steps.locator('[data-guard="max_daily_loss"]')).toHaveAttribute("data-status", "not_reached");
  await expect(steps.locator('[data-guard="cvar"]')).toHaveAttribute("data-status", "off");
  await detail.getByRole("button", { name: "Close" }).click();
  await expect(detail).toBeHidden();
  await page.getByLabel("Filter decisions by reason").selectOption("");
  await page.getByLabel("Filter decisions by symbol").fill("");

  // Unlock from the page: a reason is required, the lock leaves the registry, the ledger says who and why.
  await row.getByRole("button", { name: "Unlock USDJPY" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Unlock USDJPY on Demo FTMO 2-Step 100K · momentum?");
  await expect(dialog.getByRole("button", { name: "Unlock USDJPY" })).toBeDisabled();
  await dialog.getByLabel("Reason").fill("e2e: news passed");
  await dialog.getByRole("button", { name: "Unlock USDJPY" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toHaveCount(0);
  const cleared = page.locator('[data-testid="audit-row"][data-type="veto.cleared"]').filter({ hasText: "e2e: news passed" });
  await expect(cleared).toContainText(users.riskManager.username);
  await expect(cleared).toContainText("USDJPY unlocked");

  // The search box filters the loaded entries.
  await page.getByLabel("Search loaded entries").fill("news passed");
  await expect(page.getByTestId("audit-row")).toHaveCount(1);
  await expect(page.getByRole("link", { name: "Export NDJSON" })).toHaveAttribute("href", `/api/v1/ledger/export?accountId=${ACCOUNT}`);
});

test("an account that does not exist or is not visible says so", async ({ page }) => {
  await logIn(page, users.riskManager);
  await openAccount(page, "no-such-account");
  await expect(page.getByRole("heading", { name: "No account “no-such-account”" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to the overview" })).toBeVisible();
});

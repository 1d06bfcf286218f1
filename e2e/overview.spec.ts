import type { APIRequestContext, Page } from "@playwright/test";
import { expect, logIn, test, users } from "./fixtures";

/**
 * The overview at desk scale: a few hundred accounts, counts that filter, search, a virtualized
 * list the server orders and windows, the firm's exposure and the accounts breached today.
 */

const ACCOUNTS = 300;
const PREFIX = "ov-e2e-";
const idOf = (n: number) => `${PREFIX}${String(n).padStart(3, "0")}`;
const PRESETS = [
  { presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 },
  { presetId: "e8-one", initialBalanceUsd: 50_000 },
  { presetId: "institutional", initialBalanceUsd: 1_000_000 },
];
/** Halted by its manual breaker in the state/breach test. */
const TRIPPED = idOf(7);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const rows = (page: Page) => page.getByTestId("account-row");
const list = (page: Page) => page.getByTestId("account-list");
const tile = (page: Page, name: string) => page.getByTestId(`count-${name}`).getByTestId("count-value");

/** The server's answer for a query (the admin token sees every account). */
async function overview(api: APIRequestContext, search: string): Promise<Json> {
  const answer = await api.get(`/api/v1/overview?${search}`);
  expect(answer.status()).toBe(200);
  return answer.json();
}

/** Opens the spec's accounts once (in one bulk call; one by one if the bulk route is missing). */
async function openAccounts(api: APIRequestContext): Promise<void> {
  if ((await api.get(`/api/v1/accounts/${idOf(ACCOUNTS)}`)).status() === 200) return;
  const accounts = Array.from({ length: ACCOUNTS }, (_, n) => ({ accountId: idOf(n + 1), name: `Desk ${String(n + 1).padStart(3, "0")}`, ...PRESETS[n % PRESETS.length]! }));
  const bulk = await api.post("/api/v1/accounts/bulk", { data: { accounts } });
  if (bulk.status() === 201) return;
  expect(bulk.status(), await bulk.text()).toBe(404);
  for (let n = 0; n < accounts.length; n += 8) {
    await Promise.all(accounts.slice(n, n + 8).map(async (account) => expect([201, 409]).toContain((await api.post("/api/v1/accounts", { data: account })).status())));
  }
}

test.beforeEach(async ({ api }) => {
  test.setTimeout(120_000);
  await openAccounts(api);
});

test("the counts match the server's, a state's count filters the list, and search narrows it", async ({ page, api }) => {
  expect((await api.post(`/api/v1/accounts/${TRIPPED}/breakers/manual/trip`, { data: { reason: "e2e: overview filter" } })).status()).toBe(200);
  try {
    await logIn(page, users.riskManager);
    const all = await overview(api, "limit=1");
    expect(all.counts.total).toBeGreaterThanOrEqual(ACCOUNTS);
    await expect(tile(page, "total")).toHaveText(all.counts.total.toLocaleString("en-US"));
    await expect(tile(page, "HALTED")).toHaveText(String(all.counts.byState.HALTED));
    await expect(tile(page, "ACTIVE")).toHaveText(all.counts.byState.ACTIVE.toLocaleString("en-US"));
    await expect(list(page)).toHaveAttribute("data-matching", String(all.counts.total));

    // The HALTED count filters: the tripped account is in, the list is only halted accounts.
    await page.getByTestId("count-HALTED").click();
    await expect(page.getByTestId("count-HALTED")).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByLabel("State")).toHaveValue("HALTED");
    await expect(list(page)).toHaveAttribute("data-matching", String(all.counts.byState.HALTED));
    await expect(rows(page).filter({ has: page.locator(`[href="/accounts/${TRIPPED}"]`) })).toHaveCount(1);
    // Every row in view is HALTED (the list renders a window, not all of them).
    await expect.poll(async () => new Set(await rows(page).getByTestId("trading-state").allTextContents())).toEqual(new Set(["HALTED"]));
    // …and so does the state menu; "all" lifts it.
    await page.getByLabel("State").selectOption("all");
    await expect(list(page)).toHaveAttribute("data-matching", String(all.counts.total));

    // Search: id, name or preset, on the server.
    await page.getByLabel("Filter").fill(`${PREFIX}12`);
    await expect(list(page)).toHaveAttribute("data-matching", "10");
    await expect(rows(page)).toHaveCount(10);
    for (const id of await rows(page).evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-account")))) expect(id).toMatch(/^ov-e2e-12\d$/);
    // Search and a state together.
    await page.getByLabel("State").selectOption("ACTIVE");
    await expect(list(page)).toHaveAttribute("data-matching", "10");
    await page.getByLabel("Filter").fill(TRIPPED);
    await expect(page.getByText("No account matches the filters.")).toBeVisible();
    await page.getByLabel("State").selectOption("HALTED");
    await expect(rows(page)).toHaveCount(1);
    await expect(rows(page).first()).toHaveAttribute("data-account", TRIPPED);

    // The breached-today list names it.
    await expect(page.getByTestId("breached-row").and(page.locator(`[data-account="${TRIPPED}"]`))).toBeVisible();
    await page.getByLabel("Filter").fill("");
    await page.getByLabel("State").selectOption("all");
    await page.getByLabel("Breached today").check();
    await expect(page.getByTestId("count-breachedToday")).toHaveAttribute("aria-pressed", "true");
    await expect(list(page)).toHaveAttribute("data-matching", String(all.counts.breachedToday));
  } finally {
    await api.post(`/api/v1/accounts/${TRIPPED}/breakers/manual/reset`, { data: { reason: "e2e: overview filter done" } });
  }
});

test("a breaker tripped while the overview is open puts the account in the breached-today list, live", async ({ page, api }) => {
  const id = idOf(211);
  await logIn(page, users.riskManager);
  const breached = page.getByTestId("breached-row").and(page.locator(`[data-account="${id}"]`));
  await expect(page.getByTestId("breached-today")).toBeVisible();
  await expect(breached).toHaveCount(0);
  expect((await api.post(`/api/v1/accounts/${id}/breakers/manual/trip`, { data: { reason: "e2e: breached today" } })).status()).toBe(200);
  await expect(breached).toBeVisible();
  await expect(breached).toContainText("HALTED");
  await expect(breached).toContainText("manual");
  expect((await api.post(`/api/v1/accounts/${id}/breakers/manual/reset`, { data: { reason: "e2e: done" } })).status()).toBe(200);
  // Reset, it stays on today's list (it was breached today) and trades again.
  await expect(breached).toContainText("ACTIVE");
});

test("the list renders only a window of rows, and scrolling to the end shows the last account", async ({ page, api }) => {
  await logIn(page, users.riskManager);
  const { matching } = await overview(api, "limit=1");
  await expect(list(page)).toHaveAttribute("data-matching", String(matching));
  await expect(rows(page).first()).toBeVisible();
  const rendered = await rows(page).count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(60);
  await expect(list(page).getByRole("table")).toHaveAttribute("aria-rowcount", String(matching + 1));

  // The first row is the server's first (closest to a limit).
  const first = (await overview(api, "offset=0&limit=1")).rows[0].accountId as string;
  await expect(rows(page).first()).toHaveAttribute("data-account", first);

  // To the end, in a few jumps as a person dragging the scrollbar would.
  for (const share of [0.3, 0.6, 1]) {
    await list(page).evaluate((node, to) => node.scrollTo({ top: node.scrollHeight * to }), share);
  }
  const last = (await overview(api, `offset=${matching - 1}&limit=1`)).rows[0].accountId as string;
  const lastRow = page.locator(`[data-testid="account-row"][data-index="${matching - 1}"]`);
  await expect(lastRow).toBeVisible();
  await expect(lastRow).toHaveAttribute("data-account", last);
  expect(await rows(page).count()).toBeLessThan(60);
  await expect(rows(page).first()).not.toHaveAttribute("data-account", first);

  // Keyboard: the list is reachable and scrolls with the keys.
  await list(page).evaluate((node) => node.scrollTo({ top: 0 }));
  await list(page).focus();
  await page.keyboard.press("PageDown");
  await expect.poll(() => list(page).evaluate((node) => node.scrollTop)).toBeGreaterThan(0);
});

test("the firm's exposure shows a symbol once an account holds it, and the firm's side is the opposite", async ({ page, api }) => {
  const id = idOf(123);
  await logIn(page, users.riskManager);
  const exposure = page.getByTestId("firm-exposure");
  const line = exposure.locator('[data-testid="exposure-row"][data-key="US500"]');
  expect((await api.post("/api/v1/market", { data: { ticks: [{ symbol: "US500", price: 5_000 }] } })).status()).toBe(200);
  const fill = { accountId: id, symbol: "US500", side: "BUY", quantity: 10, price: 5_000, trigger: "order" };
  expect((await api.post("/api/v1/executions", { data: { fills: [fill], correction: { reason: "e2e: book a position" } } })).status()).toBe(200);
  try {
    // 10 × 5,000 = 50,000 USD long for the traders: the firm is short as much.
    await expect(line).toBeVisible();
    await expect(line.getByRole("cell").nth(0)).toHaveText("+$50K");
    await expect(line.getByRole("cell").nth(1)).toHaveText("−$50K");
    await exposure.getByRole("button", { name: "Cluster" }).click();
    await expect(exposure.locator('[data-testid="exposure-row"][data-key="us-equity"]')).toBeVisible();
  } finally {
    await api.post("/api/v1/executions", { data: { fills: [{ ...fill, side: "SELL" }], correction: { reason: "e2e: book a position" } } });
  }
});

test("at 390 px the overview does not scroll sideways and the list still reads", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await logIn(page, users.riskManager);
  await expect(rows(page).first()).toBeVisible();
  // The overview's panels fit the width (the top bar is the shell's).
  const main = await page.locator("main").evaluate((node) => ({ scroll: node.scrollWidth, client: node.clientWidth, right: node.getBoundingClientRect().right }));
  expect(main.scroll).toBeLessThanOrEqual(main.client);
  expect(main.right).toBeLessThanOrEqual(390);
  // A row's cells fit in the list's width (three lines a row, no sideways scroll).
  expect(await list(page).evaluate((node) => node.scrollWidth <= node.clientWidth)).toBe(true);
  await expect(rows(page).first().getByRole("meter").first()).toBeVisible();
  await expect(rows(page).first().getByRole("link")).toBeVisible();
  // Nor does the whole page, top bar included; nor an account's page.
  const documentWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
  expect(await documentWidth()).toBeLessThanOrEqual(390);
  await rows(page).first().getByRole("link").click();
  await expect(page.getByTestId("account-id")).toBeVisible();
  await expect(page.getByTestId("trading-state")).toBeVisible();
  expect(await documentWidth()).toBeLessThanOrEqual(390);
});

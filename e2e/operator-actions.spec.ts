import type { APIRequestContext, Page } from "@playwright/test";
import { E2E_ADMIN_PASSWORD, expect, logIn, test, users } from "./fixtures";
import { sampleIntent } from "../test/fixtures";

/**
 * Issue 17 on the account page, as a risk desk uses it: every operator action with a reason and
 * a confirmation (lock a symbol, reduce-only on and off, flatten now, reopen), offered only to
 * roles that may do it; the live objectives and closed trades; a halt's denial that says why,
 * reached from the overview's feed.
 */

const ADMIN_ACTOR = "token:admin (RISKGATE_ADMIN_TOKEN)";
/** Accounts of their own (external execution), so the specs sharing the server do not meet. */
const fresh = (name: string) => `e2e-ops-${name}-${Date.now().toString(36)}`;

async function openAccount(api: APIRequestContext, accountId: string, name: string, presetId = "ftmo-2step-100k"): Promise<void> {
  const opened = await api.post("/api/v1/accounts", { data: { accountId, name, presetId, initialBalanceUsd: 100_000 } });
  expect(opened.status(), await opened.text()).toBe(201);
  expect((await api.post("/api/v1/market", { data: { ticks: [{ symbol: "EURUSD", price: 1.085 }] } })).status()).toBe(200);
}

/** Fills booked by hand (an admin's correction), as a trading stack's history would be. */
async function book(api: APIRequestContext, accountId: string, fills: { side: "BUY" | "SELL"; quantity: number; price: number }[]): Promise<void> {
  const booked = await api.post("/api/v1/executions", {
    data: { fills: fills.map((fill) => ({ accountId, symbol: "EURUSD", ...fill })), correction: { reason: "e2e: book trades" } },
  });
  expect(booked.status(), await booked.text()).toBe(200);
}

async function goTo(page: Page, accountId: string): Promise<void> {
  await page.goto(`/accounts/${accountId}`);
  await expect(page.getByTestId("connection-status")).toHaveText("connected");
  await expect(page.getByTestId("account-id")).toHaveText(accountId);
}

test("a risk manager locks a symbol, puts the account on reduce-only and back, and flattens it now; objectives and closed trades follow", async ({ page, api }) => {
  const accountId = fresh("desk");
  // FTMO 1-Step: a 10% target, no minimum of days, the best day at most 50% of the profit.
  await openAccount(api, accountId, "Ops desk account", "ftmo-1step-100k");
  // A closed round trip (+1,000 USD) and an open long of 1 lot.
  await book(api, accountId, [
    { side: "BUY", quantity: 2, price: 1.085 },
    { side: "SELL", quantity: 2, price: 1.09 },
    { side: "BUY", quantity: 1, price: 1.085 },
  ]);
  await logIn(page, users.riskManager);
  await goTo(page, accountId);
  const actions = page.getByTestId("operator-actions");
  const state = page.getByTestId("trading-state");

  // Objectives and closed trades, from the account's ledger.
  const objectives = page.getByTestId("objectives");
  await expect(objectives.getByTestId("objective-profit-target")).toContainText("$1,000 of $10,000");
  await expect(objectives.getByTestId("objective-trading-days")).toContainText("1 day (none required)");
  const bestDay = objectives.getByTestId("objective-best-day");
  await expect(bestDay).toContainText("100.0% of the profit (at most 50%)");
  await expect(bestDay.getByTestId("objective-met")).toHaveText("not yet");
  await expect(objectives.getByTestId("objectives-met")).toHaveText("in progress");
  const trades = page.getByTestId("closed-trades").getByTestId("trade-row");
  await expect(trades).toHaveCount(1);
  await expect(trades.first()).toContainText("long 2 EURUSD");
  await expect(trades.first()).toContainText("1.085 → 1.09");
  await expect(trades.first()).toContainText("$1,000");

  // Lock a symbol for an hour: a reason is required, the registry shows it.
  await actions.getByRole("button", { name: "Lock a symbol…" }).click();
  const lock = page.getByRole("dialog");
  await expect(lock).toContainText("Lock a symbol on Ops desk account?");
  await lock.getByLabel("Symbol").fill("XAUUSD");
  await lock.getByLabel("Locked").selectOption({ label: "1 hour" });
  await expect(lock.getByRole("button", { name: "Lock symbol" })).toBeDisabled();
  await lock.getByLabel("Reason").fill("e2e: gold auction");
  await lock.getByRole("button", { name: "Lock symbol" }).click();
  await expect(lock).toBeHidden();
  const veto = page.locator('[data-testid="veto-row"][data-target="XAUUSD"]');
  await expect(veto).toContainText("e2e: gold auction");
  await expect(veto).toContainText(`by user:${users.riskManager.username}`);
  await expect(veto).not.toContainText("until reset");

  // Reduce-only on, then off.
  await actions.getByRole("button", { name: "Reduce-only…" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("e2e: news in five minutes");
  await page.getByRole("dialog").getByRole("button", { name: "Start reduce-only" }).click();
  await expect(state).toHaveText("REDUCING");
  await expect(page.getByTestId("reducing")).toContainText("e2e: news in five minutes");
  await actions.getByRole("button", { name: "End reduce-only…" }).click();
  await expect(page.getByRole("dialog")).toContainText("e2e: news in five minutes");
  await page.getByRole("dialog").getByLabel("Reason").fill("e2e: news passed");
  await page.getByRole("dialog").getByRole("button", { name: "End reduce-only" }).click();
  await expect(state).toHaveText("ACTIVE");
  await expect(page.getByTestId("reducing")).toHaveCount(0);

  // Flatten now: the dialog says what closes; the order goes on the ledger with who and why.
  await actions.getByRole("button", { name: "Flatten now…" }).click();
  const flatten = page.getByRole("dialog");
  await expect(flatten).toContainText("Flatten every position of Ops desk account now?");
  await expect(flatten.getByTestId("flatten-preview")).toContainText("SELL 1 EURUSD (closes the long)");
  await expect(flatten.getByRole("button", { name: "Flatten now" })).toBeDisabled();
  await flatten.getByLabel("Reason").fill("e2e: desk flattens before CPI");
  await flatten.getByRole("button", { name: "Flatten now" }).click();
  await expect(flatten).toBeHidden();
  await expect(actions.getByTestId("flatten-ordered")).toContainText("SELL 1 EURUSD");
  await expect(actions.getByTestId("flatten-ordered")).toContainText("Waiting for the execution stack's fills");
  const ordered = page.locator('[data-testid="audit-row"][data-type="flatten.ordered"]');
  await expect(ordered).toContainText("e2e: desk flattens before CPI");
  await expect(ordered).toContainText(users.riskManager.username);

  // The execution stack reports the liquidation: flat, a second closed trade, the objectives move.
  const closed = await api.post("/api/v1/executions", { data: { fills: [{ accountId, symbol: "EURUSD", side: "SELL", quantity: 1, price: 1.086, trigger: "liquidation" }] } });
  expect(closed.status(), await closed.text()).toBe(200);
  await expect(page.getByText("No open positions.")).toBeVisible();
  await expect(actions.getByTestId("flatten-ordered")).toContainText("Every position is closed");
  await expect(actions.getByRole("button", { name: "Flatten now…" })).toBeDisabled();
  await expect(trades).toHaveCount(2);
  await expect(trades.first()).toContainText("closed by liquidation");
  await expect(objectives.getByTestId("objective-profit-target")).toContainText("$1,100 of $10,000");
});

test("only an admin is offered the reopen of a locked-out account, and a viewer no action at all", async ({ page, api, browser }) => {
  const accountId = fresh("lockout");
  await openAccount(api, accountId, "Ops lock-out account");
  // 1 lot from 1.085 to 0.985: −10,000 USD, down to the loss floors (a hard breach under FTMO).
  await book(api, accountId, [
    { side: "BUY", quantity: 1, price: 1.085 },
    { side: "SELL", quantity: 1, price: 0.985 },
  ]);
  expect((await (await api.get(`/api/v1/accounts/${accountId}`)).json()).account.lockedOut).not.toBeNull();

  // A risk manager may operate, but reopening is an admin's.
  await logIn(page, users.riskManager);
  await goTo(page, accountId);
  await expect(page.getByTestId("trading-state")).toHaveText("LOCKED_OUT");
  const actions = page.getByTestId("operator-actions");
  await expect(actions.getByRole("button", { name: "Lock a symbol…" })).toBeVisible();
  await expect(actions.getByRole("button", { name: "Reopen…" })).toHaveCount(0);
  await expect(actions).toContainText("only an admin can reopen it");

  // A viewer: nothing to press.
  const viewer = await browser.newPage();
  await logIn(viewer, users.viewer);
  await goTo(viewer, accountId);
  await expect(viewer.getByTestId("operator-actions")).toContainText("operator actions are for risk managers and admins");
  await expect(viewer.getByTestId("operator-actions").getByRole("button")).toHaveCount(0);
  await viewer.close();

  // The admin reopens it, with a reason.
  const admin = await browser.newPage();
  await logIn(admin, { username: "admin", password: E2E_ADMIN_PASSWORD });
  await goTo(admin, accountId);
  await admin.getByTestId("operator-actions").getByRole("button", { name: "Reopen…" }).click();
  const dialog = admin.getByRole("dialog");
  await expect(dialog).toContainText("Reopen Ops lock-out account?");
  await dialog.getByLabel("Reason").fill("e2e: reviewed with the trader");
  await dialog.getByRole("button", { name: "Reopen account" }).click();
  await expect(admin.getByTestId("locked-out")).toHaveCount(0);
  await expect(admin.getByTestId("trading-state")).not.toHaveText("LOCKED_OUT");
  await expect(admin.locator('[data-testid="audit-row"][data-type="account.reopened"]')).toContainText("e2e: reviewed with the trader");
  await admin.close();
  // The risk manager's page follows live.
  await expect(page.getByTestId("trading-state")).not.toHaveText("LOCKED_OUT");
});

test("a halted account's denial in the overview's feed links to the decision, which says which breaker, who, when and why", async ({ page, api }) => {
  const accountId = fresh("feed");
  await openAccount(api, accountId, "Ops feed account");
  expect((await api.post(`/api/v1/accounts/${accountId}/breakers/manual/trip`, { data: { reason: "e2e: fat-finger review" } })).status()).toBe(200);
  await api.post("/api/v1/market", { data: { ticks: [{ symbol: "EURUSD", price: 1.085 }] } });
  const intentId = `e2e-feed-${Date.now().toString(36)}`;
  const denied = await api.post("/api/v1/intents", { data: sampleIntent(intentId, { accountId }) });
  const { seq, decision } = await denied.json();
  expect(decision).toMatchObject({ outcome: "denied", reason: "trading_halted", detail: expect.stringContaining("manual breaker by") });

  await logIn(page, users.riskManager);
  const row = page.getByTestId("decision-row").filter({ hasText: intentId });
  await expect(row).toContainText("manual breaker by");
  await expect(row.getByRole("link", { name: accountId, exact: true })).toHaveAttribute("href", `/accounts/${accountId}`);
  await row.getByRole("link", { name: `Open decision ${intentId} of ${accountId}` }).click();

  await expect(page).toHaveURL(new RegExp(`/accounts/${accountId}\\?decision=${intentId}&seq=${seq}$`));
  const detail = page.getByTestId("decision-detail");
  await expect(detail).toBeVisible();
  await expect(detail).toContainText(`Decision on ${intentId}`);
  await expect(detail.getByTestId("halt-why")).toContainText(`manual breaker by ${ADMIN_ACTOR} at `);
  await expect(detail.getByTestId("halt-why")).toContainText("e2e: fat-finger review");
  await detail.getByRole("button", { name: "Close" }).click();
  await expect(detail).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/accounts/${accountId}$`));

  // The audit trail's entry of that decision opens it too.
  const entry = page.locator('[data-testid="audit-row"][data-type="intent.decided"]').filter({ hasText: intentId });
  await entry.getByRole("link", { name: `Open decision ${intentId} from the audit trail` }).click();
  await expect(page.getByTestId("decision-detail").getByTestId("halt-why")).toContainText("e2e: fat-finger review");
  expect((await api.post(`/api/v1/accounts/${accountId}/breakers/manual/reset`, { data: { reason: "e2e: done" } })).status()).toBe(200);
});

import type { Page } from "@playwright/test";
import { expect, logIn, test, users } from "./fixtures";
import { DEMO_ACCOUNT as ACCOUNT, EURUSD_TICK, sampleIntent } from "../test/fixtures";

const intent = (intentId: string) => sampleIntent(intentId, { quantity: 2 });

/** Opens the demo account's page and waits for it to be live. */
async function openAccount(page: Page): Promise<void> {
  await page.goto(`/accounts/${ACCOUNT}`);
  await expect(page.getByTestId("connection-status")).toHaveText("connected");
  await expect(page.getByTestId("account-id")).toHaveText(ACCOUNT);
}

test("a risk manager trips the manual breaker on the account page, sees an entry denied live, resets it, and the audit trail says who and why", async ({ page, api }) => {
  await logIn(page, users.riskManager);
  await openAccount(page);
  const state = page.getByTestId("trading-state");
  const manual = page.getByTestId("breaker-manual");
  await expect(state).toHaveText("ACTIVE");

  // Trip: the dialog names the account and breaker and will not submit without a reason.
  await manual.getByRole("button", { name: "Trip" }).click();
  const tripDialog = page.getByRole("dialog");
  await expect(tripDialog).toContainText("Trip the manual breaker of Demo FTMO 2-Step 100K · momentum?");
  const confirmTrip = tripDialog.getByRole("button", { name: "Trip manual breaker" });
  await expect(confirmTrip).toBeDisabled();
  await tripDialog.getByLabel("Reason").fill("e2e: unusual volatility");
  await confirmTrip.click();
  await expect(tripDialog).toBeHidden();
  await expect(state).toHaveText("HALTED");
  await expect(manual).toContainText("e2e: unusual volatility");
  await expect(manual).toContainText(`tripped by user:${users.riskManager.username}`);
  await expect(manual).toContainText("risk manager or admin");

  // An entry sent by a strategy while halted is denied, and the denial appears in the account's live feed.
  const response = await api.post("/api/v1/intents", { data: intent("e2e-entry-1") });
  expect(response.status()).toBe(200);
  expect((await response.json()).decision).toMatchObject({ outcome: "denied", reason: "trading_halted" });
  const row = page.getByTestId("decision-row").filter({ hasText: "e2e-entry-1" });
  await expect(row).toHaveAttribute("data-outcome", "denied");
  await expect(row).toContainText("trading_halted");

  // Reset with a reason: ACTIVE again, and an entry is allowed.
  await manual.getByRole("button", { name: "Reset" }).click();
  const resetDialog = page.getByRole("dialog");
  await expect(resetDialog).toContainText("Reset the manual breaker of Demo FTMO 2-Step 100K · momentum?");
  await resetDialog.getByLabel("Reason").fill("e2e: volatility normal");
  await resetDialog.getByRole("button", { name: "Reset manual breaker" }).click();
  await expect(state).toHaveText("ACTIVE");
  await expect(manual).toContainText(`last reset by user:${users.riskManager.username}`);

  await api.post("/api/v1/market", { data: EURUSD_TICK });
  await api.post("/api/v1/intents", { data: intent("e2e-entry-2") });
  await expect(page.getByTestId("decision-row").filter({ hasText: "e2e-entry-2" })).toHaveAttribute("data-outcome", "allowed");

  // The audit trail, live from the ledger: who tripped and reset the breaker, and why.
  const tripped = page.locator('[data-testid="audit-row"][data-type="breaker.tripped"]').filter({ hasText: "e2e: unusual volatility" });
  await expect(tripped).toContainText(users.riskManager.username);
  await expect(tripped).toContainText("manual breaker tripped");
  const reset = page.locator('[data-testid="audit-row"][data-type="breaker.reset"]').filter({ hasText: "e2e: volatility normal" });
  await expect(reset).toContainText(users.riskManager.username);
  // Newest first: the reset is above the trip.
  const types = await page.getByTestId("audit-row").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-type")));
  expect(types.indexOf("breaker.reset")).toBeLessThan(types.indexOf("breaker.tripped"));
});

test("cancelling the confirmation leaves the breaker untouched", async ({ page }) => {
  await logIn(page, users.riskManager);
  await openAccount(page);
  await page.getByTestId("breaker-manual").getByRole("button", { name: "Trip" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("should not happen");
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.getByTestId("trading-state")).toHaveText("ACTIVE");
  await expect(page.getByTestId("breaker-manual").getByTestId("breaker-state")).toHaveText("armed");
});

test("a firm-wide halt shows on the console and halts every account until resumed", async ({ page, api }) => {
  await logIn(page, users.riskManager);
  const row = page.locator(`[data-testid="account-row"][data-account="${ACCOUNT}"]`);
  await expect(row).toHaveAttribute("aria-label", `Account ${ACCOUNT}`);
  await expect(page.getByTestId("firm-halt")).toHaveCount(0);

  expect((await api.post("/api/v1/firm/halt", { data: { reason: "e2e: venue outage" } })).status()).toBe(200);
  await expect(page.getByTestId("firm-halt")).toContainText("e2e: venue outage");
  await expect(row.getByTestId("trading-state")).toHaveText("HALTED");

  // The account's page says why it is halted.
  await row.getByRole("link").click();
  await expect(page.getByTestId("account-id")).toHaveText(ACCOUNT);
  await expect(page.getByTestId("firm-halt")).toContainText("e2e: venue outage");
  await expect(page.getByTestId("trading-state")).toHaveText("HALTED");

  expect((await api.post("/api/v1/firm/resume", { data: { reason: "e2e: venue back" } })).status()).toBe(200);
  await expect(page.getByTestId("firm-halt")).toHaveCount(0);
  await expect(page.getByTestId("trading-state")).toHaveText("ACTIVE");
});

test("a wrong password is refused with a message, and the console stays closed", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Username").fill(users.viewer.username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "wrong" })).toContainText("wrong username or password");
  await expect(page.getByTestId("current-user")).toHaveCount(0);
});

test("a viewer sees the account live but is offered no trip, reset or unlock, and the server refuses a reset anyway", async ({ page, api }) => {
  await logIn(page, users.viewer);
  await expect(page.getByTestId("current-user")).toContainText("viewer");
  await openAccount(page);
  await expect(page.getByTestId("trading-state")).toBeVisible();
  // Exact names: a decision's button ("Open decision e2e-a11y-preset-…") contains "reset".
  await expect(page.getByRole("button", { name: "Trip", exact: true })).toHaveCount(0);

  // Tripped by an operator and a symbol locked: both show, but the viewer has nothing to press.
  expect((await api.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { data: { reason: "e2e: viewer check" } })).status()).toBe(200);
  try {
    expect((await api.post(`/api/v1/accounts/${ACCOUNT}/vetoes`, { data: { symbol: "GBPUSD", reason: "e2e: viewer lock" } })).status()).toBe(201);
    await expect(page.getByTestId("trading-state")).toHaveText("HALTED");
    await expect(page.getByTestId("breaker-manual")).toContainText("e2e: viewer check");
    await expect(page.locator('[data-testid="veto-row"][data-target="GBPUSD"]')).toBeVisible();
    await expect(page.getByRole("button", { name: "Reset", exact: true })).toHaveCount(0);
    await expect(page.getByRole("button", { name: /^Unlock/ })).toHaveCount(0);

    // The viewer's own session, with its CSRF token, is still refused by the server.
    const csrf = (await page.context().cookies()).find((cookie) => cookie.name === "riskgate_csrf")!.value;
    const refused = await page.request.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, {
      data: { reason: "viewer tries" },
      headers: { "x-csrf-token": csrf },
    });
    expect(refused.status()).toBe(403);
    expect(refused.headers()["content-type"]).toContain("application/problem+json");
  } finally {
    // Undone even when a check fails, so the specs after this one find the account trading.
    expect((await api.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { data: { reason: "e2e: done" } })).status()).toBe(200);
    await api.post(`/api/v1/accounts/${ACCOUNT}/vetoes/GBPUSD/unlock`, { data: { reason: "e2e: done" } });
  }
  await expect(page.getByTestId("trading-state")).toHaveText("ACTIVE");
});

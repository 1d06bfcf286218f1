import { expect, logIn, test, users } from "./fixtures";
import { DEMO_ACCOUNT as ACCOUNT, EURUSD_TICK, sampleIntent } from "../test/fixtures";

const intent = (intentId: string) => sampleIntent(intentId, { quantity: 2 });

test("a risk manager trips the manual breaker, sees an entry denied live, and resets it with a reason", async ({ page, api }) => {
  await logIn(page, users.riskManager);

  const card = page.getByRole("region", { name: `Account ${ACCOUNT}` });
  await expect(card.getByTestId("trading-state")).toHaveText("ACTIVE");

  // Trip: the dialog names the account and breaker and will not submit without a reason.
  await card.getByTestId("breaker-manual").getByRole("button", { name: "Trip" }).click();
  const tripDialog = page.getByRole("dialog");
  await expect(tripDialog).toContainText("Trip the manual breaker of Demo FTMO 2-Step 100K · momentum?");
  const confirmTrip = tripDialog.getByRole("button", { name: "Trip manual breaker" });
  await expect(confirmTrip).toBeDisabled();
  await tripDialog.getByLabel("Reason").fill("e2e: unusual volatility");
  await confirmTrip.click();
  await expect(tripDialog).toBeHidden();
  await expect(card.getByTestId("trading-state")).toHaveText("HALTED");
  await expect(card.getByTestId("breaker-manual")).toContainText("e2e: unusual volatility");

  // An entry sent by a strategy while halted is denied, and the denial appears in the live feed.
  const response = await api.post("/api/v1/intents", { data: intent("e2e-entry-1") });
  expect(response.status()).toBe(200);
  expect((await response.json()).decision).toMatchObject({ outcome: "denied", reason: "trading_halted" });
  const row = page.getByTestId("decision-row").filter({ hasText: "e2e-entry-1" });
  await expect(row).toHaveAttribute("data-outcome", "denied");
  await expect(row).toContainText("trading_halted");

  // Reset with a reason: ACTIVE again, and an entry is allowed.
  await card.getByTestId("breaker-manual").getByRole("button", { name: "Reset" }).click();
  const resetDialog = page.getByRole("dialog");
  await expect(resetDialog).toContainText("Reset the manual breaker of Demo FTMO 2-Step 100K · momentum?");
  await resetDialog.getByLabel("Reason").fill("e2e: volatility normal");
  await resetDialog.getByRole("button", { name: "Reset manual breaker" }).click();
  await expect(card.getByTestId("trading-state")).toHaveText("ACTIVE");

  await api.post("/api/v1/market", { data: EURUSD_TICK });
  await api.post("/api/v1/intents", { data: intent("e2e-entry-2") });
  await expect(page.getByTestId("decision-row").filter({ hasText: "e2e-entry-2" })).toHaveAttribute("data-outcome", "allowed");
});

test("cancelling the confirmation leaves the breaker untouched", async ({ page }) => {
  await logIn(page, users.riskManager);
  const card = page.getByRole("region", { name: `Account ${ACCOUNT}` });
  await card.getByTestId("breaker-manual").getByRole("button", { name: "Trip" }).click();
  await page.getByRole("dialog").getByLabel("Reason").fill("should not happen");
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(card.getByTestId("trading-state")).toHaveText("ACTIVE");
});

test("a firm-wide halt shows on the console and halts every account until resumed", async ({ page, api }) => {
  await logIn(page, users.riskManager);
  const card = page.getByRole("region", { name: `Account ${ACCOUNT}` });
  await expect(page.getByTestId("firm-halt")).toHaveCount(0);

  expect((await api.post("/api/v1/firm/halt", { data: { reason: "e2e: venue outage" } })).status()).toBe(200);
  await expect(page.getByTestId("firm-halt")).toContainText("e2e: venue outage");
  await expect(card.getByTestId("trading-state")).toHaveText("HALTED");

  expect((await api.post("/api/v1/firm/resume", { data: { reason: "e2e: venue back" } })).status()).toBe(200);
  await expect(page.getByTestId("firm-halt")).toHaveCount(0);
  await expect(card.getByTestId("trading-state")).toHaveText("ACTIVE");
});

test("a wrong password is refused with a message, and the console stays closed", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("Username").fill(users.viewer.username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "wrong" })).toContainText("wrong username or password");
  await expect(page.getByTestId("current-user")).toHaveCount(0);
});

test("a viewer sees the accounts live but is offered no trip or reset, and the server refuses one anyway", async ({ page, api }) => {
  await logIn(page, users.viewer);
  await expect(page.getByTestId("current-user")).toContainText("viewer");
  const card = page.getByRole("region", { name: `Account ${ACCOUNT}` });
  await expect(card.getByTestId("trading-state")).toBeVisible();
  await expect(card.getByRole("button", { name: "Trip" })).toHaveCount(0);

  // Tripped by an operator, the breaker shows, but the viewer has no Reset to press.
  expect((await api.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/trip`, { data: { reason: "e2e: viewer check" } })).status()).toBe(200);
  await expect(card.getByTestId("trading-state")).toHaveText("HALTED");
  await expect(card.getByRole("button", { name: "Reset" })).toHaveCount(0);

  // The viewer's own session, with its CSRF token, is still refused by the server.
  const csrf = (await page.context().cookies()).find((cookie) => cookie.name === "riskgate_csrf")!.value;
  const refused = await page.request.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, {
    data: { reason: "viewer tries" },
    headers: { "x-csrf-token": csrf },
  });
  expect(refused.status()).toBe(403);
  expect(refused.headers()["content-type"]).toContain("application/problem+json");
  expect((await api.post(`/api/v1/accounts/${ACCOUNT}/breakers/manual/reset`, { data: { reason: "e2e: done" } })).status()).toBe(200);
  await expect(card.getByTestId("trading-state")).toHaveText("ACTIVE");
});

import { sampleIntent } from "../test/fixtures";
import { expect, logIn, saveScreenshot, test, users } from "./fixtures";

/**
 * Guard 18 in the console: an account whose preset turns the reviewer on; an oversized entry is
 * vetoed with the reviewer's reasons, and its details show the deal memo (chaos, stress, hedges).
 */

const ACCOUNT = "e2e-reviewed";

test("a vetoed entry shows the reviewer's reasons, and its details the deal memo", async ({ page, api }) => {
  const preset = { id: "e2e-reviewed", name: "E2E reviewed", firm: "Test desk", program: "Reviewed", rules: { guards: { reviewer: { enabled: true, timeoutMs: 20_000, advisory: { chaos: { paths: 2_000 } } } } } };
  expect([201, 409]).toContain((await api.post("/api/v1/presets", { data: { preset, note: "e2e: the reviewer on" } })).status());
  expect([201, 409]).toContain((await api.post("/api/v1/accounts", { data: { accountId: ACCOUNT, name: "E2E reviewed 100K", presetId: "e2e-reviewed", initialBalanceUsd: 100_000 } })).status());

  // An hour of one-minute GBPUSD bars for the chaos engine, then a fresh price.
  const start = Date.now() - 61 * 60_000;
  let price = 1.27;
  const bars = Array.from({ length: 60 }, (_, n) => {
    const open = price;
    price *= 1 + Math.sin(n * 1.7) * 0.0015;
    return { symbol: "GBPUSD", closedAt: new Date(start + n * 60_000).toISOString(), open, high: Math.max(open, price), low: Math.min(open, price), close: price, volume: 1_000 };
  });
  expect((await api.post("/api/v1/market", { data: { bars } })).status()).toBe(200);
  expect((await api.post("/api/v1/market", { data: { ticks: [{ symbol: "GBPUSD", price }] } })).status()).toBe(200);

  const answer = await api.post("/api/v1/intents", { data: sampleIntent("e2e-reviewed-1", { accountId: ACCOUNT, symbol: "GBPUSD", quantity: 30, referencePrice: price }) });
  const body = await answer.json();
  expect(body.decision).toMatchObject({ outcome: "denied", guard: "reviewer", reason: "reviewer_veto" });
  expect(body.memo.chaos.status).toBe("ran");

  await logIn(page, users.riskManager);
  await page.goto(`/accounts/${ACCOUNT}`);
  const row = page.getByTestId("decision-row").filter({ hasText: "e2e-reviewed-1" });
  await expect(row).toContainText("reviewer_veto");
  await row.getByRole("button", { name: "Open decision e2e-reviewed-1" }).click();
  const memo = page.getByTestId("deal-memo");
  await expect(memo).toContainText("Chaos engine");
  await expect(memo).toContainText("flash crash");
  await expect(memo).toContainText("black monday");
  await expect(memo).toContainText("protective put");
  await saveScreenshot(page, "decision-memo");
});

import type { Page } from "@playwright/test";
import { expect, logIn, saveScreenshot, test, users } from "./fixtures";

/** The page fits the viewport's width: nothing scrolls sideways. */
async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test.use({ viewport: { width: 1280, height: 720 } });

test("a risk manager runs a backtest from the page, watches it to done, reads its equity, denials and compliance, and replays it with no mismatch", async ({ page }) => {
  await logIn(page, users.riskManager);
  await page.getByRole("link", { name: "Backtests" }).click();
  await expect(page.getByRole("heading", { name: "Run a backtest" })).toBeVisible();

  // The EU indices (1,860 bars) with the reckless strategy under FTMO 2-Step: long enough to watch, and denied a lot.
  await page.getByLabel("Data set", { exact: true }).selectOption("eu-stock-markets-1991-1998-daily");
  await expect(page.getByLabel("Preset", { exact: true })).toContainText("FTMO 2-Step Challenge 100K");
  await page.getByLabel("Preset", { exact: true }).selectOption("ftmo-2step-100k");
  await page.getByLabel("Strategy", { exact: true }).selectOption("reckless");
  await expect(page.getByLabel(/Risk gate on/)).toBeChecked();
  await page.getByLabel("Seed", { exact: true }).fill("7");
  await page.getByRole("button", { name: "Run" }).click();

  await expect(page).toHaveURL(/\/backtests\?run=[0-9a-f-]{36}$/);
  const run = page.getByTestId("backtest-run");
  // The progress bar moves while it runs (polled every 500 ms), then the run is done.
  await expect(run.getByTestId("run-progress")).toBeVisible();
  await expect(run.getByRole("progressbar")).toBeVisible();
  await expect(run.getByTestId("run-status")).toHaveText("done", { timeout: 60_000 });
  await expect(run.getByRole("progressbar")).toHaveCount(0);
  const listed = page.locator('[data-testid="run-link"][aria-current="page"]');
  await expect(listed).toHaveAttribute("data-status", "done");
  await expect(listed).toContainText("reckless");

  // The figures, the equity curve with both floors, the denials by reason, the compliance report.
  const figures = page.getByTestId("run-figures");
  for (const label of ["Return", "Max drawdown", "Sharpe", "Trades"]) await expect(figures).toContainText(label);
  const chart = page.getByTestId("backtest-equity-chart");
  await expect(chart.locator(".series-equity path.recharts-line-curve")).toBeVisible();
  // A static floor is a flat line (no height, so not "visible"): it is drawn when its path has points.
  for (const floor of ["dailyLossFloor", "maxLossFloor"]) await expect(chart.locator(`.series-${floor} path.recharts-line-curve`)).toHaveAttribute("d", /^M[\d.]+,[\d.]+L/);
  expect(Number(await chart.getAttribute("data-points"))).toBeLessThanOrEqual(1_000);
  await expect(chart).toHaveAttribute("aria-label", /daily-loss floor .* max-loss floor/);
  const denials = page.getByTestId("denials");
  await expect(denials.getByRole("table").first()).toBeVisible();
  expect(await denials.getByTestId("denial-row").count()).toBeGreaterThan(0);
  const compliance = page.getByTestId("compliance");
  await expect(compliance.getByTestId("compliance-verdict")).toHaveText("Breached");
  await expect(compliance.getByTestId("breach-row").first()).toContainText(/daily_loss|max_loss/);
  await expect(compliance.getByTestId("objectives")).toContainText("Trading days");
  await expect(run.getByRole("link", { name: "Download the ledger (NDJSON)" })).toHaveAttribute("href", /\/api\/v1\/backtests\/[0-9a-f-]{36}\/ledger$/);
  await expectNoSidewaysScroll(page);
  await saveScreenshot(page, "backtests");

  // Replay: the ledger decided again, every decision reproduced.
  await run.getByRole("link", { name: "Open in Replay" }).click();
  await expect(page).toHaveURL(/\/replay\?backtest=[0-9a-f-]{36}$/);
  await expect(page.getByTestId("replay-mismatches")).toHaveText("0");
  await expect(page.getByText("Every recorded decision was reproduced.")).toBeVisible();
  await expect(page.getByTestId("state-hash")).toHaveText(/^[0-9a-f]{64}$/);
  const decisions = Number((await page.getByTestId("replay-decisions").textContent())!.replace(/,/g, ""));
  expect(decisions).toBeGreaterThan(0);
  await page.getByLabel("Outcome").selectOption("denied");
  await expect(page.getByTestId("replay-decision").first()).toHaveAttribute("data-outcome", "denied");
  expect(await page.locator('[data-testid="replay-decision"][data-outcome="allowed"]').count()).toBe(0);
  await expect(page.getByTestId("decisions-shown")).toContainText("denied decisions shown");
  await expectNoSidewaysScroll(page);
  await saveScreenshot(page, "replay");
});

test("a viewer sees the runs but is not offered Run; the server refuses a viewer's run anyway (403)", async ({ page, api }) => {
  const queued = await api.post("/api/v1/backtests", { data: { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "mean-reversion" } });
  expect(queued.status()).toBe(202);
  const { id } = (await queued.json()) as { id: string };

  await logIn(page, users.viewer);
  await page.goto(`/backtests?run=${id}`);
  await expect(page.getByTestId("run-not-offered")).toBeVisible();
  await expect(page.getByRole("button", { name: "Run" })).toHaveCount(0);
  await expect(page.getByTestId("backtest-run").getByTestId("run-status")).toHaveText("done", { timeout: 60_000 });
  await expect(page.locator(`[data-testid="run-link"][data-run="${id}"]`)).toBeVisible();

  // The session's own call, as the page would make it: refused.
  const status = await page.evaluate(async () => {
    const csrf = /(?:^|;\s*)riskgate_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "";
    const response = await fetch("/api/v1/backtests", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
      body: JSON.stringify({ dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "buy-and-hold" }),
    });
    return response.status;
  });
  expect(status).toBe(403);
});

test("an uploaded CSV with a bad cell is refused inline with its line and column", async ({ page }) => {
  await logIn(page, users.riskManager);
  await page.goto("/backtests");
  await page.getByLabel("Upload a CSV").check();
  await page.getByLabel("CSV file").setInputFiles({
    name: "acme-daily.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("date,Open,High,Low,Close\n2024-01-02,10,11,9,10.5\n2024-01-03,10.5,eleven,10,10.8\n"),
  });
  await page.getByRole("button", { name: "Run" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "acme-daily.csv:3 (column High)" })).toBeVisible();
  await expect(page.getByLabel("CSV file")).toHaveAttribute("aria-invalid", "true");
});

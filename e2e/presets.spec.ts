import type { APIRequestContext, Page } from "@playwright/test";
import { expect, logIn, saveScreenshot, test, users } from "./fixtures";
import { DEMO_ACCOUNT as ACCOUNT, EURUSD_TICK, sampleIntent } from "../test/fixtures";

const PRESET = "ftmo-2step-100k";

/** The version of `presetId` the account decides under, as the API says. */
async function runningVersion(api: APIRequestContext, accountId: string): Promise<number | null> {
  const response = await api.get(`/api/v1/accounts/${accountId}`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { account: { preset: { version: number } | null } }).account.preset?.version ?? null;
}

/** The page fits the viewport's width: nothing scrolls sideways. */
async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test("a risk manager opens a preset from the list by keyboard, an invalid figure shows inline and blocks saving and activation until fixed", async ({ page }) => {
  await logIn(page, users.riskManager);
  await page.getByRole("link", { name: "Presets" }).click();
  await expect(page.getByRole("heading", { name: "Choose a preset" })).toBeVisible();

  // The list shows firm, program, latest version, versions and the accounts under each preset.
  const link = page.locator(`[data-testid="preset-link"][data-preset="${PRESET}"]`);
  await expect(link).toContainText("FTMO · 2-Step Challenge (phase 1)");
  await expect(link).toContainText("v1 · 1 version");
  await expect(link).toContainText(`${ACCOUNT} v1`);
  await link.focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/presets\\?preset=${PRESET}$`));
  await expect(page.getByRole("heading", { name: "FTMO 2-Step Challenge 100K" })).toBeVisible();
  await expect(page.getByTestId("version-row")).toHaveCount(1);
  await expect(page.getByTestId("version-row").first()).toContainText("shipped preset");

  // A figure the preset leaves to the firm shows the firm's value as its placeholder.
  const throttle = page.getByRole("group", { name: "Throttle" });
  await expect(throttle.getByRole("spinbutton", { name: "Max order notional (USD)" })).toHaveAttribute("placeholder", "firm's: 5000000");

  const accountRules = page.getByRole("group", { name: "Account rules" });
  const maxLoss = accountRules.getByRole("spinbutton", { name: "Max loss (%)" });
  await expect(maxLoss).toHaveValue("10");
  await maxLoss.fill("-5");

  await expect(maxLoss).toHaveAttribute("aria-invalid", "true");
  // Said in plain language next to the field, and in the summary by the field's place in the form.
  await expect(maxLoss).toHaveAccessibleDescription(/Max loss must be more than 0%/);
  await expect(page.getByTestId("issue-summary")).toContainText("Account rules › Max loss (%): Max loss must be more than 0%");
  await expect(page.getByTestId("issue-summary")).not.toContainText("Too small");
  await page.getByLabel("Note (what changed and why)").fill("e2e: should not save");
  await expect(page.getByRole("button", { name: "Save as v2" })).toBeDisabled();
  await expect(page.getByTestId("save-blocked")).toContainText("2 issues to fix");
  await expect(page.getByRole("button", { name: "Activate v1" })).toBeDisabled();
  await expect(page.getByTestId("activate-blocked")).toContainText("2 issues to fix");
  await expect(page.getByRole("button", { name: "Dry-run the draft" })).toBeDisabled();
  await expect(page.locator('[data-path="rules.accountRules.maxLossPct"]')).toContainText("-5");

  // A figure one of the preset's sources backs, cleared: the message is at that figure.
  const dailyLoss = accountRules.getByRole("spinbutton", { name: "Daily loss (%)" });
  await accountRules.getByRole("button", { name: "Clear Daily loss (%): use the firm's value" }).click();
  await expect(dailyLoss).toHaveValue("");
  await expect(dailyLoss).toHaveAttribute("aria-invalid", "true");
  await expect(dailyLoss).toHaveAccessibleDescription(/Source 1 \(academy\.ftmo\.com\) backs this figure: give it a value, or remove that source/);
  await dailyLoss.fill("5");

  // Fixed: valid again, and with nothing changed there is nothing to save.
  await maxLoss.fill("12");
  await expect(page.getByTestId("validation-status")).toHaveText("Valid preset.");
  await expect(maxLoss).not.toHaveAttribute("aria-invalid", "true");
  await expect(accountRules.getByTestId("field-issue")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save as v2" })).toBeEnabled();
  await maxLoss.fill("10");
  await expect(page.getByTestId("diff-empty")).toBeVisible();
  await expect(page.getByTestId("save-blocked")).toContainText("no changes to v1");
  await expectNoSidewaysScroll(page);
});

test("the raw JSON tab edits the same draft and shows the parse error of broken JSON", async ({ page }) => {
  await logIn(page, users.riskManager);
  await page.goto(`/presets?preset=${PRESET}`);
  const formTab = page.getByRole("tab", { name: "Form" });
  await formTab.focus();
  await page.keyboard.press("ArrowRight");
  const rawTab = page.getByRole("tab", { name: /Raw JSON/ });
  await expect(rawTab).toHaveAttribute("aria-selected", "true");

  const raw = page.getByLabel("Preset JSON");
  const text = await raw.inputValue();
  expect(JSON.parse(text)).toMatchObject({ id: PRESET, rules: { accountRules: { maxLossPct: 10 } } });

  // A change in the raw JSON is the form's too, checked the same way.
  await raw.fill(text.replace('"maxLossPct": 10', '"maxLossPct": 150'));
  await expect(page.getByTestId("issue-summary")).toContainText("Max loss must be 100% or less");
  await formTab.click();
  await expect(page.getByRole("group", { name: "Account rules" }).getByRole("spinbutton", { name: "Max loss (%)" })).toHaveValue("150");

  await rawTab.click();
  await raw.fill('{ "id": "ftmo-2step-100k", ');
  await expect(page.getByTestId("parse-error")).toContainText("Not JSON");
  await expect(raw).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("save-blocked")).toContainText("the raw JSON does not parse");
  await expect(page.getByRole("button", { name: "Activate v1" })).toBeDisabled();
  await formTab.click();
  await expect(page.getByRole("alert").filter({ hasText: "does not parse" })).toBeVisible();

  await page.getByRole("button", { name: "Discard changes" }).click();
  await expect(page.getByTestId("validation-status")).toHaveText("Valid preset.");
});

test("a dry-run of the draft lists the decisions it would deny; saved as v2 and activated with a reason, the account runs v2", async ({ page, api }) => {
  // Given three entries of the demo account allowed under the shipped preset.
  expect((await api.post("/api/v1/market", { data: EURUSD_TICK })).status()).toBe(200);
  for (const n of [1, 2, 3]) {
    const response = await api.post("/api/v1/intents", { data: sampleIntent(`e2e-dry-${n}`, { quantity: 0.5 }) });
    expect(response.status()).toBe(200);
    expect((await response.json()).decision).toMatchObject({ outcome: "allowed" });
  }
  expect(await runningVersion(api, ACCOUNT)).toBe(1);

  try {
    await logIn(page, users.riskManager);
    await page.goto(`/presets?preset=${PRESET}`);

    // When the draft caps an order's notional at 20,000 USD.
    await page.getByRole("group", { name: "Throttle" }).getByRole("spinbutton", { name: "Max order notional (USD)" }).fill("20000");
    const diff = page.locator('[data-testid="diff-row"][data-path="rules.guards.throttle.maxOrderNotionalUsd"]');
    await expect(diff).toContainText("firm's (5000000)");
    await expect(diff).toContainText("20000");

    await page.getByRole("combobox", { name: "Account", exact: true }).selectOption(ACCOUNT);
    await page.getByRole("button", { name: "Dry-run the draft" }).click();

    // Then those entries would be denied by the throttle.
    const result = page.getByTestId("dry-run-result");
    await expect(result).toBeVisible();
    expect(Number(await result.getByTestId("dry-allowed-to-denied").textContent())).toBeGreaterThanOrEqual(3);
    // The counts add up: every decision decided again is unchanged or changed in exactly one way, each listed change too.
    const count = async (testId: string) => Number(await result.getByTestId(testId).textContent());
    const kinds = ["dry-allowed-to-denied", "dry-denied-to-allowed", "dry-resized", "dry-other-reason", "dry-other-figures"];
    let changed = 0;
    for (const kind of kinds) changed += await count(kind);
    expect(changed).toBe(await count("dry-changed"));
    expect((await count("dry-unchanged")) + changed).toBe(await count("dry-decisions"));
    expect(await result.getByTestId("dry-change").count()).toBe(Math.min(500, changed));
    // Beside the editor on a desk's screen (1280 px), not below it: right of the form, in the same row.
    const form = (await page.locator(".editor").boundingBox())!;
    const beside = (await result.boundingBox())!;
    expect(beside.x).toBeGreaterThanOrEqual(form.x + form.width);
    expect(await page.locator(".editor-row").evaluate((row) => row.contains(document.querySelector('[data-testid="dry-run-result"]')))).toBe(true);
    for (const n of [1, 2, 3]) {
      const row = result.locator(`[data-testid="dry-change"][data-intent="e2e-dry-${n}"]`);
      await expect(row.getByTestId("dry-recorded")).toContainText("allowed");
      await expect(row.getByTestId("dry-candidate")).toContainText("denied");
      await expect(row.getByTestId("dry-candidate")).toContainText("throttle");
    }

    // The editor and, beside it (scrolling on its own), the dry-run's result: one screen of 1280 x 900.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator(".editor-row").evaluate((row) => window.scrollTo(0, row.getBoundingClientRect().top + window.scrollY - 16));
    await page.locator(".editor-side").evaluate((side) => {
      const card = side.querySelector(".try")!;
      side.scrollTop += card.getBoundingClientRect().top - side.getBoundingClientRect().top;
    });
    await saveScreenshot(page, "presets", { fullPage: false });
    await page.setViewportSize({ width: 1280, height: 720 });
    await expectNoSidewaysScroll(page);

    // Saved as v2 with a note: the editor opens v2, and the list counts two versions.
    await page.getByLabel("Note (what changed and why)").fill("e2e: cap order notional at 20k");
    await page.getByRole("button", { name: "Save as v2" }).click();
    await expect(page).toHaveURL(new RegExp(`preset=${PRESET}&version=2`));
    await expect(page.getByRole("heading", { name: `Editing ${PRESET} v2` })).toBeVisible();
    await expect(page.locator('[data-testid="version-row"][data-version="2"]')).toContainText("e2e: cap order notional at 20k");
    await expect(page.locator('[data-testid="version-row"][data-version="2"]')).toContainText(users.riskManager.username);
    await expect(page.locator(`[data-testid="preset-link"][data-preset="${PRESET}"]`)).toContainText("v2 · 2 versions");
    // The preset in words is made from v2's values.
    await expect(page.getByTestId("preset-description")).toContainText("v2 in words");
    await expect(page.getByTestId("preset-description")).toContainText("Throttle: max order notional 20,000 USD");

    // Activated for the account with a reason: the API and the page say it runs v2.
    await page.getByRole("combobox", { name: "Account", exact: true }).selectOption(ACCOUNT);
    await page.getByRole("button", { name: "Activate v2" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog).toContainText(`Activate ${PRESET} v2 for`);
    await expect(dialog).toContainText(`(${ACCOUNT})?`);
    const confirm = dialog.getByRole("button", { name: "Activate v2" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel("Reason").fill("e2e: news week");
    await confirm.click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("activation-notice")).toContainText(`${ACCOUNT} now runs ${PRESET} v2`);
    expect(await runningVersion(api, ACCOUNT)).toBe(2);
    await expect(page.locator(`[data-testid="running-version"][data-account="${ACCOUNT}"]`)).toHaveText("v2");
    await expect(page.getByTestId("activate-blocked")).toContainText(`${ACCOUNT} runs v2 already`);

    // An older version opens read from the list, and saving it would make v3.
    await page.getByRole("link", { name: "Open v1" }).click();
    await expect(page.getByRole("heading", { name: `Editing ${PRESET} v1` })).toBeVisible();
    await expect(page.getByText("Saving it creates v3")).toBeVisible();
  } finally {
    // The other specs expect the shipped rules.
    await api.post(`/api/v1/accounts/${ACCOUNT}/preset`, { data: { presetId: PRESET, version: 1, reason: "e2e: back to the shipped version" } });
  }
});

test("“New preset” starts from a copy under a new id and saves it as version 1", async ({ page }) => {
  await logIn(page, users.riskManager);
  await page.goto("/presets?preset=e8-one");
  await page.getByRole("button", { name: "New preset" }).click();
  const id = page.getByRole("textbox", { name: "ID", exact: true });
  await expect(id).toHaveValue("e8-one-copy");
  await id.fill("ftmo-2step-100k");
  await expect(page.getByTestId("issue-summary")).toContainText("ID: A preset ftmo-2step-100k exists already: choose another ID");
  await expect(page.getByRole("button", { name: "Save new preset" })).toBeDisabled();
  await id.fill("e2e-desk-copy");
  await page.getByRole("button", { name: "Save new preset" }).click();
  await expect(page).toHaveURL(/preset=e2e-desk-copy&version=1/);
  await expect(page.getByRole("heading", { name: "E8 One (copy)" })).toBeVisible();
});

test("a viewer sees presets and their versions but is offered no save, dry-run or activation", async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await logIn(page, users.viewer);
  await page.goto(`/presets?preset=${PRESET}`);
  await expect(page.getByRole("heading", { name: "FTMO 2-Step Challenge 100K" })).toBeVisible();
  await expect(page.getByText("read-only", { exact: true })).toBeVisible();
  await expect(page.getByRole("group", { name: "Account rules" }).getByRole("spinbutton", { name: "Max loss (%)" })).toBeDisabled();
  await expect(page.getByTestId("version-row")).not.toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Save/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Activate/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Dry-run/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "New preset" })).toHaveCount(0);
  await page.getByRole("tab", { name: "Raw JSON" }).click();
  await expect(page.getByLabel("Preset JSON")).toHaveAttribute("readonly", "");
  await expectNoSidewaysScroll(page);
});

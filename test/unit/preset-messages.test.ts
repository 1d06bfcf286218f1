import { describe, expect, it } from "vitest";
import { describePreset } from "@/components/presets/describe";
import { checkPreset, fieldTitle } from "@/components/presets/messages";
import { Preset } from "@/server/engine/preset";
import { readPresetFiles } from "@/server/presets";

/** The preset editor's check in plain language, each issue at the field it is about; and a preset in words from its values. */

const shipped = readPresetFiles().map(({ preset }) => preset);
const ftmo = () => structuredClone(shipped.find((preset) => preset.id === "ftmo-2step-100k")!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function issuesOf(draft: unknown) {
  const checked = checkPreset(draft);
  if (checked.ok) throw new Error("expected issues");
  return checked.issues;
}

describe("the preset editor's messages", () => {
  it("says a figure above its maximum in words, with its unit, at the field", () => {
    const draft = ftmo();
    draft.rules.accountRules.dailyLossPct = 150;
    draft.rules.accountRules.maxLossPct = 200;
    const issues = issuesOf(draft);
    expect(issues).toContainEqual({ path: "rules.accountRules.dailyLossPct", message: "Daily loss must be 100% or less" });
    expect(issues).toContainEqual({ path: "rules.accountRules.maxLossPct", message: "Max loss must be 100% or less" });
    expect(issues.map((issue) => issue.message).join("\n")).not.toMatch(/Too big|expected number|<=/);
  });

  it("says bounds that exclude their value, whole numbers, money and milliseconds", () => {
    const draft = ftmo();
    draft.rules.accountRules.maxLossPct = 0;
    draft.objectives.minTradingDays = 2.5;
    draft.initialBalanceUsd = -5;
    draft.rules.guards = { ...draft.rules.guards, throttle: { maxIntentsPerSecond: 0 }, priceSanity: { maxPriceAgeMs: 0 } };
    const issues = issuesOf(draft);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "rules.accountRules.maxLossPct", message: "Max loss must be more than 0%" },
        { path: "objectives.minTradingDays", message: "Min trading days must be a whole number" },
        { path: "initialBalanceUsd", message: "Initial balance must be more than 0 USD" },
        { path: "rules.guards.throttle.maxIntentsPerSecond", message: "Max intents per second must be more than 0" },
        { path: "rules.guards.priceSanity.maxPriceAgeMs", message: "Max price age must be more than 0 ms" },
      ]),
    );
  });

  it("says an empty name, a wrong option, a malformed time, a time zone and a web address in words", () => {
    const draft = ftmo();
    draft.name = "";
    draft.rules.accountRules.dailyLossOf = "weekly";
    draft.rules.dailyReset = { time: "25:00", timeZone: "Mars/Olympus" };
    draft.sources[0].url = "ftp://example.com/rules";
    const issues = issuesOf(draft);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "name", message: "Name cannot be empty" },
        { path: "rules.accountRules.dailyLossOf", message: "Daily loss of must be one of: baseline, initial_balance" },
        { path: "rules.dailyReset.time", message: "Time: use HH:MM, 24-hour" },
        { path: "rules.dailyReset.timeZone", message: "Time zone must be an IANA time zone such as Europe/Prague" },
        { path: "sources.0.url", message: "URL must be a web address starting with https:// or http://" },
      ]),
    );
  });

  it("puts a source of a figure the draft no longer sets at that figure, where it was cleared", () => {
    const draft = ftmo();
    delete draft.rules.accountRules.dailyLossPct;
    expect(issuesOf(draft)).toEqual([{ path: "rules.accountRules.dailyLossPct", message: "Source 1 (academy.ftmo.com) backs this figure: give it a value, or remove that source" }]);
  });

  it("keeps at the source a field name that is no figure of a preset", () => {
    const draft = ftmo();
    draft.sources[0].field = "rules.accountRules.dailyLossPercent";
    expect(issuesOf(draft)).toEqual([
      { path: "sources.0.field", message: "Source 1 (academy.ftmo.com) names “rules.accountRules.dailyLossPercent”, which is not a figure of this preset: name one it sets, or remove the source" },
    ]);
  });

  it("says a daily allowance above the max-loss allowance in words, and an unknown key", () => {
    const draft = ftmo();
    draft.rules.accountRules.dailyLossPct = 12;
    draft.rules.accountRules.dailyLossPercent = 4;
    const issues = issuesOf(draft);
    expect(issues).toContainEqual({ path: "rules.accountRules.dailyLossPct", message: "Daily loss (12% of the initial balance) must not exceed the max loss (10%)" });
    expect(issues).toContainEqual({ path: "rules.accountRules", message: "“dailyLossPercent” is not a field of Account rules: remove it in the raw JSON" });
  });

  it("names a field by its place in the form", () => {
    expect(fieldTitle("rules.accountRules.dailyLossPct")).toBe("Rules › Account rules › Daily loss (%)");
    expect(fieldTitle("sources.1.field")).toBe("Sources › Source 2 › Field");
    expect(fieldTitle("")).toBe("The preset");
  });

  it("accepts every shipped preset", () => {
    for (const preset of shipped) expect(checkPreset(preset).ok).toBe(true);
  });
});

describe("a preset in words", () => {
  it("is made from the values: a saved 4% daily loss reads 4%", () => {
    const draft = ftmo();
    expect(describePreset(Preset.parse(draft)).join(" ")).toContain("Daily loss: 5% of the initial balance (5,000 USD)");
    draft.rules.accountRules.dailyLossPct = 4;
    const words = describePreset(Preset.parse(draft)).join(" ");
    expect(words).toContain("Daily loss: 4% of the initial balance (4,000 USD) below the day's baseline (the balance at the daily reset); reaching it locks the account out.");
    expect(words).toContain("Maximum loss: 10% of the initial balance (10,000 USD), static");
    expect(words).toContain("The day starts at 00:00 Europe/Prague.");
    expect(words).toContain("Objectives: a profit target of 10% of the initial balance (10,000 USD), at least 4 trading days.");
    expect(words).toContain("Also set: Daily drawdown breaker: max 5%; Kelly: multiplier 0.1.");
  });

  it("names the currency a preset states, in its amounts and its account size", () => {
    const words = describePreset(Preset.parse({ ...ftmo(), currency: "EUR" })).join(" ");
    expect(words).toContain("For 100,000 EUR accounts (accounts under it are in EUR).");
    expect(words).toContain("Daily loss: 5% of the initial balance (5,000 EUR)");
    expect(words).not.toContain("USD");
    const anySize = describePreset(Preset.parse({ ...ftmo(), currency: "EUR", initialBalanceUsd: null })).join(" ");
    expect(anySize).toContain("For accounts of any size in EUR.");
  });

  it("says what the preset leaves to the firm", () => {
    const draft = ftmo();
    delete draft.rules.accountRules;
    draft.sources = [];
    expect(describePreset(Preset.parse(draft))).toEqual(expect.arrayContaining(["Daily loss: the firm's limit.", "Maximum loss: the firm's limit."]));
  });

  it("leaves the figures of the rules out of the shipped presets' notes (they would go stale on the first edit)", () => {
    for (const preset of shipped) {
      const { dailyLossPct, maxLossPct } = preset.rules.accountRules ?? {};
      for (const figure of [dailyLossPct, maxLossPct]) if (figure !== undefined) expect(preset.description, preset.id).not.toContain(`${figure}%`);
    }
  });
});

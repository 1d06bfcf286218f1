import { describe, expect, it } from "vitest";
import { EngineConfig, resolveRules, rulesOf } from "@/server/engine/config";
import { validatePreset } from "@/server/engine/preset";
import { readPresetFiles } from "@/server/presets";

/** The shipped presets (presets/*.json) and the preset schema's messages. */

const shipped = readPresetFiles();
const byId = new Map(shipped.map(({ preset }) => [preset.id as string, preset]));
const firm = rulesOf(EngineConfig.parse({}));

describe("shipped presets", () => {
  it("include every program the product promises", () => {
    expect([...byId.keys()].sort()).toEqual(
      ["e8-one", "ftmo-1step-100k", "ftmo-2step-100k", "fundednext-stellar-2step", "institutional", "the5ers-high-stakes", "topstep-100k", "topstep-150k", "topstep-50k"].sort(),
    );
  });

  it("name a source for each firm's loss rules and reset, marking third-party summaries", () => {
    for (const { preset } of shipped) {
      if (preset.id === "institutional") continue;
      const backed = new Set(preset.sources.map((source) => source.field));
      for (const field of ["rules.accountRules.dailyLossPct", "rules.accountRules.maxLossPct", "rules.dailyReset", "objectives.profitTargetPct"]) {
        expect(backed, `${preset.id} has no source for ${field}`).toContain(field);
      }
    }
    expect(byId.get("e8-one")!.sources.find((source) => source.field === "rules.accountRules.dailyLossPct")!.thirdParty).toBe(true);
  });

  it("encode each firm's own measurement rules", () => {
    const rules = (id: string) => resolveRules(firm, byId.get(id)!.rules);
    expect(rules("ftmo-2step-100k")).toMatchObject({
      accountRules: { dailyLossPct: 5, dailyLossOf: "initial_balance", dailyBaselineBasis: "balance", dailyLossBreach: "hard", maxLossPct: 10, maxLossMode: "static" },
      dailyReset: { time: "00:00", timeZone: "Europe/Prague" },
    });
    expect(rules("ftmo-1step-100k").accountRules).toMatchObject({ dailyLossPct: 3, maxLossMode: "trailing_eod", trailingStopsAtInitialBalance: false });
    expect(rules("the5ers-high-stakes").accountRules).toMatchObject({ dailyBaselineBasis: "max_balance_equity", dailyLossOf: "baseline" });
    expect(rules("e8-one").accountRules).toMatchObject({ maxLossPct: 6, maxLossMode: "trailing_intraday", trailingStopsAtInitialBalance: true });
    // Topstep's limits are dollars: 1,000 / 2,000 USD a day and 2,000 / 4,500 USD in all.
    expect(rules("topstep-50k")).toMatchObject({ accountRules: { dailyLossPct: 2, maxLossPct: 4, dailyLossBreach: "liquidate", maxLossMode: "trailing_eod", trailingStopsAtInitialBalance: true }, dailyReset: { time: "17:00", timeZone: "America/Chicago" } });
    expect(byId.get("topstep-150k")!.initialBalanceUsd! * (rules("topstep-150k").accountRules.maxLossPct / 100)).toBeCloseTo(4_500, 6);
    expect(rules("institutional").guards).toMatchObject({
      clusterCap: { enabled: true, maxPct: 25 },
      benchmarkCorrelation: { enabled: true, maxCorrelation: 0.7 },
      positionCorrelation: { enabled: true, maxCorrelation: 0.75 },
      cvar: { enabled: true, maxPct: 5 },
      kelly: { multiplier: 0.5 },
    });
  });

  it("leave what they do not set to the firm's configuration", () => {
    expect(byId.get("ftmo-2step-100k")!.rules.guards?.throttle).toBeUndefined();
    expect(resolveRules(firm, byId.get("ftmo-2step-100k")!.rules).guards.throttle).toEqual(firm.guards.throttle);
  });
});

describe("preset validation", () => {
  const minimal = { id: "desk-a", name: "Desk A", firm: "Desk", program: "Main" };

  it("accepts a preset that sets nothing beyond its name", () => {
    expect(validatePreset(minimal)).toMatchObject({ ok: true, preset: { rules: {}, objectives: { profitTargetPct: null } } });
  });

  it("names the path of every bad figure", () => {
    const result = validatePreset({ ...minimal, rules: { accountRules: { maxLossPct: 0, dailyLosPct: 3 }, dailyReset: { timeZone: "Mars/Olympus" } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((issue) => issue.path).sort()).toEqual(["rules.accountRules", "rules.accountRules.maxLossPct", "rules.dailyReset.timeZone"]);
  });

  it("refuses a source that backs no field of the preset", () => {
    const result = validatePreset({ ...minimal, sources: [{ field: "rules.accountRules.dailyLossPct", url: "https://example.com/rules" }] });
    expect(result).toMatchObject({ ok: false, issues: [{ path: "sources.0.field" }] });
  });

  it("refuses a daily allowance larger than the max-loss allowance", () => {
    const result = validatePreset({ ...minimal, rules: { accountRules: { dailyLossOf: "initial_balance", dailyLossPct: 12, maxLossPct: 10 } } });
    expect(result).toMatchObject({ ok: false, issues: [{ path: "rules.accountRules.dailyLossPct" }] });
  });
});

import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../config";
import type { PresetRules } from "../engine/decide";
import type { EngineConfig, Rules, RulesPatch } from "../engine/config";
import { EngineConfig as EngineConfigSchema, resolveRules, rulesOf } from "../engine/config";
import type { PresetId } from "../engine/ids";
import type { Preset } from "../engine/preset";
import { validatePreset } from "../engine/preset";
import type { PipelineOptions } from "../execution/pipeline";
import { defaultPipelineOptions } from "../execution/pipeline";
import { PRESETS_DIR, readPresetFiles } from "../presets";
import type { PresetResolver } from "../runtime";
import type { BarData } from "./csv";

/**
 * What a backtest decides under: the engine configuration (the built-in instruments and the
 * file's other symbols), the preset's rules, and `--risk off`.
 */

export class PresetError extends Error {}

/** A shipped preset by id (presets/*.json, as the server reads them), or a preset file (`.json`). */
export function readPreset(spec: string): Preset {
  if (spec.endsWith(".json")) {
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(spec, "utf8"));
    } catch (error) {
      throw new PresetError(`--preset: ${spec}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not JSON: ${(error as Error).message}`}`);
    }
    const result = validatePreset(json);
    if (!result.ok) throw new PresetError(`--preset: ${spec}: ${result.issues.map((issue) => `${issue.path || "(root)"}: ${issue.message}`).join("; ")}`);
    return result.preset;
  }
  const shipped = readPresetFiles(PRESETS_DIR).map(({ preset }) => preset);
  const found = shipped.find((preset) => preset.id === spec);
  if (!found) throw new PresetError(`--preset: no preset ${spec} (shipped: ${shipped.map((preset) => preset.id).join(", ")}; or a .json file)`);
  return found;
}

/** The shipped presets' directory, for messages. */
export const presetsDir = path.relative(process.cwd(), PRESETS_DIR) || PRESETS_DIR;

/**
 * The instrument a symbol of the file gets when the engine does not know it: equity-like, one
 * unit per contract, a cent tick, and the file's average volume per day as its ADV (1,000,000
 * units when the file has no volume).
 */
export function engineConfigFor(data: BarData): EngineConfig {
  const base = loadConfig({}).engine;
  const added = data.symbols.filter((symbol) => !base.instruments[symbol]);
  if (added.length === 0) return base;
  const instruments = { ...base.instruments };
  for (const symbol of added) {
    const volume = data.averageDailyVolume.get(symbol) ?? 0;
    instruments[symbol] = { sector: "equity", contractSize: 1, tickSize: 0.01, averageDailyVolume: volume > 0 ? volume : 1_000_000 };
  }
  return EngineConfigSchema.parse({ ...base, instruments });
}

const OUT_OF_REACH = Number.MAX_SAFE_INTEGER;

/**
 * `--risk off` as rules: every guard that can be switched off is off, the breakers cannot trip
 * (a drawdown beyond 100%, failures and latencies beyond any count), and both loss floors sit at
 * zero equity (100% allowances, the most the schema allows). What still runs cannot be switched
 * off: the trading state (ACTIVE unless equity reaches zero), parameter validity (an exit with
 * nothing to close, a stop or target on the wrong side of the price are denied, as they are
 * nonsense rather than risk) and the floors at zero (an account at or below zero equity, or an
 * entry whose stop alone would lose all of it, is denied).
 */
export const RISK_OFF: RulesPatch = {
  accountRules: { dailyLossPct: 100, dailyLossOf: "baseline", dailyLossBreach: "soft", maxLossPct: 100, maxLossMode: "static" },
  breakers: {
    dailyDrawdown: { maxPct: 100 },
    executionFailures: { threshold: OUT_OF_REACH },
    latency: { thresholdMs: OUT_OF_REACH },
  },
  guards: {
    vetoRegistry: { enabled: false, exitCooldownMs: 0, stopLossStreak: { enabled: false } },
    throttle: { enabled: false },
    priceSanity: { enabled: false },
    liquidity: { enabled: false },
    microstructure: { enabled: false },
    kelly: { enabled: false },
    volTarget: { enabled: false },
    clusterCap: { enabled: false },
    sectorCap: { enabled: false },
    dailyRiskQuota: { enabled: false },
    benchmarkCorrelation: { enabled: false },
    positionCorrelation: { enabled: false },
    cvar: { enabled: false },
    reviewer: { enabled: false },
  },
};

/**
 * The queue's limits with risk off: no rate limit and no inflight cap, so that every order goes
 * to the venue the moment it is allowed, as the engine-less run sends it (the limits would
 * otherwise delay or supersede orders of a burst).
 */
export const UNLIMITED_PIPELINE: PipelineOptions = { ...defaultPipelineOptions, maxOrdersPerSecond: OUT_OF_REACH, maxInflight: OUT_OF_REACH };

/** The rules the account decides under: the preset's over the firm's, and with risk off the RISK_OFF patch over those. */
export function backtestRules(engine: EngineConfig, preset: Preset, risk: "on" | "off"): Rules {
  const rules = resolveRules(rulesOf(engine), preset.rules);
  return risk === "on" ? rules : resolveRules(rules, RISK_OFF);
}

/** Resolves the one preset of the run (as version 1, the version a shipped file gets at a server's first start). */
export function presetResolver(engine: EngineConfig, preset: Preset, risk: "on" | "off"): PresetResolver {
  const resolved: PresetRules & { preset: Preset } = {
    presetId: preset.id as PresetId,
    version: 1,
    rules: risk === "on" ? preset.rules : backtestRules(engine, preset, "off"),
    preset,
  };
  return {
    async resolve(presetId) {
      if (presetId !== preset.id) throw new PresetError(`no preset ${presetId} in this backtest`);
      return resolved;
    },
  };
}

import fs from "node:fs";
import { conversionOf, convertibleWith, pairNeeded, quoteCurrencyOf } from "../engine/currency";
import path from "node:path";
import type { PresetRules } from "../engine/decide";
import type { EngineConfig, Instruments, Rules, RulesPatch } from "../engine/config";
import { EngineConfig as EngineConfigSchema, InstrumentsFile, resolveRules, rulesOf } from "../engine/config";
import type { PresetId } from "../engine/ids";
import type { Preset } from "../engine/preset";
import { validatePreset } from "../engine/preset";
import type { PipelineOptions } from "../execution/pipeline";
import { defaultPipelineOptions } from "../execution/pipeline";
import { defaultInstruments, guessInstrument } from "../instruments";
import { PRESETS_DIR, readPresetFiles } from "../presets";
import type { PresetResolver } from "../runtime";
import type { BarData } from "./csv";

/**
 * What a backtest decides under: the engine configuration (the built-in instruments and the
 * file's other symbols), the preset's rules, and `--risk off`.
 */

export class PresetError extends Error {}
export class InstrumentsError extends Error {}

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

/** The engine configuration without RISKGATE_ENGINE_CONFIG: the built-in instruments and the defaults. */
export const builtinEngineConfig: EngineConfig = EngineConfigSchema.parse({ instruments: defaultInstruments });

/** What a run decides under, and what was guessed on the way (said on stderr and in the report). */
export type BacktestSetup = { readonly engine: EngineConfig; readonly warnings: readonly string[] };

/**
 * The engine configuration of a run: the firm's (`firm`: RISKGATE_ENGINE_CONFIG, else the built-in
 * instruments), with the run's instruments file over its instruments, and for each symbol of the
 * file that neither states, a guess that is said: a six-letter ISO currency pair is FX, anything
 * else an equity. A volume nobody states is the file's average volume per UTC day, said; with no
 * volume in the file it stays unknown, and where the run's liquidity guard is on that is said too
 * (the guard does not check such an instrument rather than deny every entry on a made-up figure).
 */
export function backtestSetup(options: {
  readonly data: BarData;
  readonly preset: Preset;
  readonly risk: "on" | "off";
  readonly firm?: EngineConfig;
  readonly instruments?: Instruments;
  /** The account's currency (default: the preset's, else USD). */
  readonly currency?: string;
}): BacktestSetup {
  const { data, preset, risk, firm = builtinEngineConfig, instruments: stated = {} } = options;
  const currency = options.currency ?? preset.currency ?? "USD";
  const columns = new Set<string>(data.symbols);
  const instruments: Instruments = { ...firm.instruments, ...stated };
  const warnings: string[] = [];
  const liquidityChecked = backtestRules(firm, preset, risk).guards.liquidity.enabled;
  for (const symbol of data.symbols) {
    let instrument = instruments[symbol];
    if (!instrument) {
      const guess = guessInstrument(symbol);
      instrument = guess.instrument;
      const what = guess.kind === "fx" ? `an FX pair (contract size ${instrument.contractSize}, tick ${instrument.tickSize}, quote currency ${instrument.quoteCurrency})` : `an equity (contract size ${instrument.contractSize}, tick ${instrument.tickSize})`;
      warnings.push(`${symbol}: not a known instrument: taken as ${what}; state it in an instruments file if it is not`);
    }
    if (instrument.averageDailyVolume === undefined) {
      const volume = data.averageDailyVolume.get(symbol) ?? 0;
      if (volume > 0) {
        instrument = { ...instrument, averageDailyVolume: volume };
        warnings.push(`${symbol}: average daily volume taken from the file: ${Number(volume.toPrecision(12))} a day`);
      } else if (liquidityChecked) {
        warnings.push(`${symbol}: daily volume unknown (no averageDailyVolume, no volume in the file): the liquidity guard does not check its entries`);
      }
    }
    // Prices in another currency than the account's convert at a pair's price, which only the file can give here.
    const conversion = conversionOf(quoteCurrencyOf(symbol, instrument), currency);
    if (conversion !== null && !convertibleWith(conversion, columns)) {
      const missing = `${symbol}: quoted in ${conversion.currency}, and the file has no ${pairNeeded(conversion)} to convert it to ${currency}`;
      // Stated by the user: in the instruments file, or in the firm's configuration unlike the built-in instrument.
      const firmCurrency = firm.instruments[symbol]?.quoteCurrency;
      const statedByUser = stated[symbol]?.quoteCurrency ?? (firmCurrency !== defaultInstruments[symbol]?.quoteCurrency ? firmCurrency : undefined);
      if (statedByUser !== undefined) {
        // The user said so: their entries are denied for want of a rate, and this line says why.
        warnings.push(`${missing}: its entries are denied (no_price) until one is there; add the pair's column to the file`);
      } else {
        warnings.push(`${missing}: its P/L is booked 1 ${conversion.currency} = 1 ${currency}; add the pair's column to the file, or state quoteCurrency in an instruments file`);
        instrument = { ...instrument, quoteCurrency: currency };
      }
    }
    instruments[symbol] = instrument;
  }
  return { engine: EngineConfigSchema.parse({ ...firm, instruments }), warnings };
}

/** An instruments file (`--instruments`): a JSON object of instruments by symbol, in the engine's instrument schema. */
export function readInstrumentsFile(file: string): Instruments {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new InstrumentsError(`--instruments: ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not JSON: ${(error as Error).message}`}`);
  }
  const parsed = InstrumentsFile.safeParse(json);
  if (!parsed.success) throw new InstrumentsError(`--instruments: ${file}: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`);
  return parsed.data;
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

import type { EngineConfig } from "./config";
import type { SymbolId } from "./ids";
import type { Position } from "./accounting";
import { floatingPnl } from "./accounting";
import { conversionOf, perUnit, quoteCurrencyOf } from "./currency";
import type { MarketState } from "./state";

/**
 * An account's exposure at the last prices: floating P/L and gross notional per volatility
 * cluster and per sector, the figures equity and the portfolio caps read. The state fold keeps
 * it current (on fills, on prices of held symbols, on a new configuration), so guards only read.
 */
export type Exposure = {
  readonly floating: number;
  /** Gross notional per symbol at its last price, in the account's currency; absent when the symbol has no price, no instrument or no rate to that currency. */
  readonly grossBySymbol: ReadonlyMap<SymbolId, number>;
  readonly byCluster: ReadonlyMap<string, GroupExposure>;
  readonly bySector: ReadonlyMap<string, GroupExposure>;
};

/** Gross notional of a group's priced positions, and how many of its positions have no price. */
export type GroupExposure = { readonly gross: number; readonly unpriced: number };

type Inputs = { readonly market: ReadonlyMap<SymbolId, MarketState>; readonly config: EngineConfig };

export const noExposure: Exposure = { floating: 0, grossBySymbol: new Map(), byCluster: new Map(), bySector: new Map() };

/** `positions` at the last prices, in `currency` (the account's; USD by default). */
export function exposureOf(positions: ReadonlyMap<SymbolId, Position>, inputs: Inputs, currency = "USD"): Exposure {
  const grossBySymbol = new Map<SymbolId, number>();
  const byCluster = new Map<string, { gross: number; unpriced: number }>();
  const bySector = new Map<string, { gross: number; unpriced: number }>();
  let floating = 0;
  for (const [symbol, position] of positions) {
    const instrument = inputs.config.instruments[symbol];
    const last = inputs.market.get(symbol)?.lastPrice ?? null;
    const contractSize = instrument?.contractSize ?? 1;
    const rate = perUnit(conversionOf(quoteCurrencyOf(symbol, instrument), currency), inputs.market);
    floating += floatingPnl(position, last, contractSize, rate);
    const gross = last === null || !instrument || rate === null ? null : Math.abs(position.quantity) * contractSize * last * rate;
    if (gross !== null) grossBySymbol.set(symbol, gross);
    addTo(byCluster, clusterOf(symbol, inputs), gross);
    if (instrument) addTo(bySector, instrument.sector, gross);
  }
  return { floating: floating, grossBySymbol, byCluster, bySector };
}

function addTo(groups: Map<string, { gross: number; unpriced: number }>, group: string, gross: number | null): void {
  let entry = groups.get(group);
  if (!entry) groups.set(group, (entry = { gross: 0, unpriced: 0 }));
  if (gross === null) entry.unpriced += 1;
  else entry.gross += gross;
}

/**
 * An instrument's volatility cluster: the configured one, else its tercile of EWMA volatility
 * among the instruments with statistics (`vol-tercile-1` calmest), else its own symbol.
 */
export function clusterOf(symbol: SymbolId, inputs: Inputs): string {
  const configured = inputs.config.instruments[symbol]?.cluster;
  if (configured) return configured;
  const own = inputs.market.get(symbol)?.stats.ewmaVariance;
  if (own === null || own === undefined) return `symbol:${symbol}`;
  const variances = [...inputs.market.values()].map((m) => m.stats.ewmaVariance).filter((v): v is number => v !== null);
  const below = variances.filter((v) => v < own).length;
  return `vol-tercile-${Math.min(3, Math.floor((below / variances.length) * 3) + 1)}`;
}

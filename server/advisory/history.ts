/**
 * The market history the advisory stages read, and what they derive from it directly: the
 * returns' period (so horizons can be counted in bars) and the beta to the benchmark. Pure.
 */
import { conversionOf, perUnit, quoteCurrencyOf } from "../engine/currency";
import type { SymbolId } from "../engine/ids";
import type { Return } from "../engine/market-stats";
import { returnAt } from "../engine/market-stats";
import type { EngineState } from "../engine/state";

/** What a review of an intent on `symbol` needs of the market, taken from the engine state by the runtime. */
export type ReviewMarket = {
  readonly symbol: string;
  /** The symbol's log returns with the close time of each bar, oldest first (`stats.returns`). */
  readonly returns: readonly Return[];
  /** The benchmark (guard 13's) and its returns, for the beta; null when there is none. */
  readonly benchmark: { readonly symbol: string; readonly returns: readonly Return[] } | null;
  readonly lastPrice: number | null;
  /** Units of the underlying per lot (the instrument's `contractSize`). */
  readonly contractSize: number;
  /** The currency the symbol's prices are in (absent: the account's). */
  readonly quoteCurrency?: string;
  /** Units of the account's currency per unit of `quoteCurrency` at the last prices, as the engine converts P/L (1: the same currency; null: no price gives it). */
  readonly accountPerQuote?: number | null;
};

/**
 * The review market of `symbol` from the engine state (benchmark: the one guard 13 is configured
 * with), for an account in `currency`: the symbol's quote currency and the rate into it.
 */
export function reviewMarketOf(state: Pick<EngineState, "market" | "config">, symbol: SymbolId, benchmark: SymbolId | null, currency: string): ReviewMarket {
  const market = state.market.get(symbol);
  const quoteCurrency = quoteCurrencyOf(symbol, state.config.instruments[symbol]);
  const benchmarkMarket = benchmark !== null && benchmark !== symbol ? state.market.get(benchmark) : undefined;
  return {
    symbol,
    returns: market?.stats.returns ?? [],
    benchmark: benchmarkMarket && benchmark !== null ? { symbol: benchmark, returns: benchmarkMarket.stats.returns } : null,
    lastPrice: market?.lastPrice ?? market?.stats.lastClose ?? null,
    contractSize: state.config.instruments[symbol]?.contractSize ?? 1,
    quoteCurrency,
    accountPerQuote: perUnit(conversionOf(quoteCurrency, currency), state.market),
  };
}

const DAY_MS = 86_400_000;

/**
 * How many of the returns' periods make a day: a day over the median spacing of their times
 * (calendar time: right for 24-hour markets; for a market open 6.5 hours it overstates the day's
 * variance, which errs on the side of caution). Null with fewer than two returns.
 */
export function periodsPerDayOf(returns: readonly Return[]): number | null {
  if (returns.length < 2) return null;
  const gaps: number[] = [];
  for (let i = 1; i < returns.length; i++) {
    const gap = returns[i]!.at - returns[i - 1]!.at;
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  return DAY_MS / median;
}

export type Beta = { readonly beta: number; readonly observations: number };

/**
 * β = cov(r, b) / var(b) over the returns both series have at the same bar time; null with
 * fewer than `minObservations` shared returns or a benchmark that does not vary.
 */
export function betaOf(returns: readonly Return[], benchmark: readonly Return[], minObservations = 20): Beta | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const { at, value } of returns) {
    const other = returnAt(benchmark, at);
    if (other !== undefined) {
      xs.push(value);
      ys.push(other);
    }
  }
  const n = xs.length;
  if (n < minObservations) return null;
  const meanX = xs.reduce((s, x) => s + x, 0) / n;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let cov = 0, varY = 0;
  for (let i = 0; i < n; i++) {
    cov += (xs[i]! - meanX) * (ys[i]! - meanY);
    varY += (ys[i]! - meanY) ** 2;
  }
  if (!(varY > 1e-24)) return null;
  const beta = cov / varY;
  return Number.isFinite(beta) ? { beta, observations: n } : null;
}

/**
 * Rolling market statistics, folded from bars when they arrive so that guards only read
 * (SPEC section 3; issue 3). Pure.
 */
export type Bar = {
  readonly at: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
};

export type MarketStats = {
  readonly bars: number;
  readonly lastClose: number | null;
  /** Log returns close-to-close with the time of the bar that ended each, oldest first. */
  readonly returns: readonly { readonly at: number; readonly value: number }[];
  /** EWMA variance of the log returns (RiskMetrics λ); null before two closes. */
  readonly ewmaVariance: number | null;
  /** Wilder's average true range; null until `atrPeriod` bars. */
  readonly atr: number | null;
  /** True ranges seen before the ATR is seeded. */
  readonly seedRanges: readonly number[];
};

export type StatsParams = { readonly returnsWindow: number; readonly ewmaLambda: number; readonly atrPeriod: number };

export const emptyStats: MarketStats = { bars: 0, lastClose: null, returns: [], ewmaVariance: null, atr: null, seedRanges: [] };

export function foldBar(stats: MarketStats, bar: Bar, params: StatsParams): MarketStats {
  const previous = stats.lastClose;
  let { returns, ewmaVariance, atr, seedRanges } = stats;
  if (previous !== null) {
    const value = Math.log(bar.close / previous);
    returns = [...returns.slice(Math.max(0, returns.length - params.returnsWindow + 1)), { at: bar.at, value }];
    ewmaVariance = ewmaVariance === null ? value * value : params.ewmaLambda * ewmaVariance + (1 - params.ewmaLambda) * value * value;
  }
  const trueRange =
    previous === null ? bar.high - bar.low : Math.max(bar.high - bar.low, Math.abs(bar.high - previous), Math.abs(bar.low - previous));
  if (atr === null) {
    seedRanges = [...seedRanges, trueRange];
    if (seedRanges.length === params.atrPeriod) {
      atr = seedRanges.reduce((sum, range) => sum + range, 0) / params.atrPeriod;
      seedRanges = [];
    }
  } else {
    atr = (atr * (params.atrPeriod - 1) + trueRange) / params.atrPeriod;
  }
  return { bars: stats.bars + 1, lastClose: bar.close, returns, ewmaVariance, atr, seedRanges };
}

export type Correlation = { readonly correlation: number | null; readonly observations: number };

/**
 * Memo tables for the statistics guards read on every intent. Return windows are immutable (a
 * new array per bar), so a result keyed on the arrays themselves stays valid until a bar
 * arrives; the tables hold no state of their own and forget arrays that are gone.
 */
const correlationMemo = new WeakMap<object, WeakMap<object, Map<string, Correlation>>>();
const timeIndexMemo = new WeakMap<object, Map<number, number>>();
const tailMemo = new WeakMap<object, Map<number, TailLoss>>();

/**
 * EWMA correlation of two return series over the bars they share (matched by bar time), the
 * newest weighted 1, the one before λ, and so on. `correlation` is null when fewer than
 * `minObservations` shared returns exist or either side does not vary.
 */
export function ewmaCorrelation(
  a: MarketStats["returns"],
  b: MarketStats["returns"],
  lambda: number,
  minObservations: number,
): Correlation {
  let byB = correlationMemo.get(a);
  if (!byB) correlationMemo.set(a, (byB = new WeakMap()));
  let byParams = byB.get(b);
  if (!byParams) byB.set(b, (byParams = new Map()));
  const key = `${lambda}:${minObservations}`;
  const known = byParams.get(key);
  if (known) return known;
  const result = computeEwmaCorrelation(a, b, lambda, minObservations);
  byParams.set(key, result);
  return result;
}

function computeEwmaCorrelation(a: MarketStats["returns"], b: MarketStats["returns"], lambda: number, minObservations: number): Correlation {
  let byTime = timeIndexMemo.get(b);
  if (!byTime) timeIndexMemo.set(b, (byTime = new Map(b.map((r) => [r.at, r.value]))));
  let weight = 1;
  let sw = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    const other = byTime.get(a[i]!.at);
    if (other === undefined) continue;
    const x = a[i]!.value;
    sw += weight;
    sa += weight * x;
    sb += weight * other;
    saa += weight * x * x;
    sbb += weight * other * other;
    sab += weight * x * other;
    n++;
    weight *= lambda;
  }
  if (n < minObservations) return { correlation: null, observations: n };
  const meanA = sa / sw, meanB = sb / sw;
  const varA = saa / sw - meanA * meanA, varB = sbb / sw - meanB * meanB;
  if (varA <= 1e-18 || varB <= 1e-18) return { correlation: null, observations: n };
  const correlation = (sab / sw - meanA * meanB) / Math.sqrt(varA * varB);
  return { correlation: Math.max(-1, Math.min(1, correlation)), observations: n };
}

/** Expected loss per unit of notional in the tail, for a long and for a short position. */
export type TailLoss = { readonly long: number; readonly short: number };

/**
 * Historical-simulation expected shortfall per unit of notional at `confidencePct`: each log
 * return r is a scenario with simple return e^r − 1; a long loses 1 − e^r, a short e^r − 1. The
 * tail is the worst ceil((1 − confidence) × n) scenarios, and its mean is the CVaR.
 */
export function tailLossPerUnit(returns: MarketStats["returns"], confidencePct: number): TailLoss {
  let byConfidence = tailMemo.get(returns);
  if (!byConfidence) tailMemo.set(returns, (byConfidence = new Map()));
  const known = byConfidence.get(confidencePct);
  if (known) return known;
  const simple = returns.map((r) => Math.expm1(r.value)).sort((x, y) => x - y);
  const k = Math.max(1, Math.ceil(((100 - confidencePct) / 100) * simple.length - 1e-9));
  let longLoss = 0;
  let shortLoss = 0;
  for (let i = 0; i < k && i < simple.length; i++) {
    longLoss -= simple[i]!;
    shortLoss += simple[simple.length - 1 - i]!;
  }
  const tail = simple.length === 0 ? { long: 0, short: 0 } : { long: longLoss / Math.min(k, simple.length), short: shortLoss / Math.min(k, simple.length) };
  byConfidence.set(confidencePct, tail);
  return tail;
}

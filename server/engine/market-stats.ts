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
): { correlation: number | null; observations: number } {
  const byTime = new Map(b.map((r) => [r.at, r.value]));
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

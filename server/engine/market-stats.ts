/**
 * Rolling market statistics, folded from bars when they arrive so that guards only read
 * (SPEC section 3; issue 3): per symbol a window of log returns (kept sorted too, for CVaR),
 * EWMA variance and Wilder's ATR; per pair of symbols the EWMA moments of their shared returns,
 * for the correlation guards. Pure.
 */
export type Bar = {
  readonly at: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
};

export type Return = { readonly at: number; readonly value: number };

export type MarketStats = {
  readonly bars: number;
  /** Close time of the latest bar; a bar must close after it. */
  readonly lastBarAt: number | null;
  readonly lastClose: number | null;
  /** Log returns close-to-close with the time of the bar that ended each, oldest first. */
  readonly returns: readonly Return[];
  /** The window's simple returns (e^r − 1), ascending: the tails CVaR reads. */
  readonly sortedSimpleReturns: readonly number[];
  /** EWMA variance of the log returns (RiskMetrics λ); null before two closes. */
  readonly ewmaVariance: number | null;
  /** Wilder's average true range; null until `atrPeriod` bars. */
  readonly atr: number | null;
  /** True ranges seen before the ATR is seeded. */
  readonly seedRanges: readonly number[];
};

export type StatsParams = { readonly returnsWindow: number; readonly ewmaLambda: number; readonly atrPeriod: number };

export const emptyStats: MarketStats = {
  bars: 0,
  lastBarAt: null,
  lastClose: null,
  returns: [],
  sortedSimpleReturns: [],
  ewmaVariance: null,
  atr: null,
  seedRanges: [],
};

/** Index of the first element of ascending `sorted` that is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function foldBar(stats: MarketStats, bar: Bar, params: StatsParams): MarketStats {
  const previous = stats.lastClose;
  let { returns, sortedSimpleReturns, ewmaVariance, atr, seedRanges } = stats;
  if (previous !== null) {
    const value = Math.log(bar.close / previous);
    const evicted = returns.length >= params.returnsWindow ? returns.length - params.returnsWindow + 1 : 0;
    const sorted = [...sortedSimpleReturns];
    for (let k = 0; k < evicted; k++) sorted.splice(lowerBound(sorted, Math.expm1(returns[k]!.value)), 1);
    const simple = Math.expm1(value);
    sorted.splice(lowerBound(sorted, simple), 0, simple);
    sortedSimpleReturns = sorted;
    returns = [...returns.slice(evicted), { at: bar.at, value }];
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
  return { bars: stats.bars + 1, lastBarAt: bar.at, lastClose: bar.close, returns, sortedSimpleReturns, ewmaVariance, atr, seedRanges };
}

/**
 * EWMA moments of two symbols' shared returns (bars with the same close time), the newest
 * weighted 1, the one before λ, and so on. Oriented: `a` is the symbol that sorts first.
 */
export type PairMoments = {
  readonly lastAt: number;
  readonly n: number;
  readonly sw: number;
  readonly sa: number;
  readonly sb: number;
  readonly saa: number;
  readonly sbb: number;
  readonly sab: number;
  /** The correlation these moments give (null when either side does not vary), computed once. */
  readonly correlation: number | null;
};

export type Correlation = { readonly correlation: number | null; readonly observations: number };

/** Adds a shared return at `at` (x of the pair's `a`, y of its `b`) to the moments. */
export function foldPair(moments: PairMoments | undefined, at: number, x: number, y: number, lambda: number): PairMoments {
  const m = moments ?? { n: 0, sw: 0, sa: 0, sb: 0, saa: 0, sbb: 0, sab: 0 };
  const sw = lambda * m.sw + 1;
  const sa = lambda * m.sa + x;
  const sb = lambda * m.sb + y;
  const saa = lambda * m.saa + x * x;
  const sbb = lambda * m.sbb + y * y;
  const sab = lambda * m.sab + x * y;
  const meanA = sa / sw, meanB = sb / sw;
  const varA = saa / sw - meanA * meanA, varB = sbb / sw - meanB * meanB;
  const correlation = varA <= 1e-18 || varB <= 1e-18 ? null : Math.max(-1, Math.min(1, (sab / sw - meanA * meanB) / Math.sqrt(varA * varB)));
  return { lastAt: at, n: m.n + 1, sw, sa, sb, saa, sbb, sab, correlation };
}

/** The correlation the moments give; null when fewer than `minObservations` or either side does not vary. */
export function correlationOf(moments: PairMoments | undefined, minObservations: number): Correlation {
  if (!moments || moments.n < minObservations) return { correlation: null, observations: moments?.n ?? 0 };
  return { correlation: moments.correlation, observations: moments.n };
}

/** The return of `returns` (ascending by time) at exactly `at`, if any. */
export function returnAt(returns: readonly Return[], at: number): number | undefined {
  let lo = 0;
  let hi = returns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const t = returns[mid]!.at;
    if (t === at) return returns[mid]!.value;
    if (t < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The moments of two whole windows, from scratch (when λ changes, and as the reference for the fold). */
export function pairMomentsOf(a: readonly Return[], b: readonly Return[], lambda: number): PairMoments | undefined {
  let moments: PairMoments | undefined;
  for (const { at, value } of a) {
    const other = returnAt(b, at);
    if (other !== undefined) moments = foldPair(moments, at, value, other, lambda);
  }
  return moments;
}

/**
 * EWMA correlation of two return series over the bars they share (matched by bar time), the
 * newest weighted 1, the one before λ, and so on. `correlation` is null when fewer than
 * `minObservations` shared returns exist or either side does not vary.
 */
export function ewmaCorrelation(a: readonly Return[], b: readonly Return[], lambda: number, minObservations: number): Correlation {
  return correlationOf(pairMomentsOf(a, b, lambda), minObservations);
}

/** Expected loss per unit of notional in the tail, for a long and for a short position. */
export type TailLoss = { readonly long: number; readonly short: number };

/**
 * Historical-simulation expected shortfall per unit of notional at `confidencePct`: each log
 * return r is a scenario with simple return e^r − 1; a long loses 1 − e^r, a short e^r − 1. The
 * tail is the worst ceil((1 − confidence) × n) scenarios, and its mean is the CVaR.
 */
export function tailLossPerUnit(stats: Pick<MarketStats, "sortedSimpleReturns">, confidencePct: number): TailLoss {
  const sorted = stats.sortedSimpleReturns;
  if (sorted.length === 0) return { long: 0, short: 0 };
  const k = Math.min(sorted.length, Math.max(1, Math.ceil(((100 - confidencePct) / 100) * sorted.length - 1e-9)));
  let longLoss = 0;
  let shortLoss = 0;
  for (let i = 0; i < k; i++) {
    longLoss -= sorted[i]!;
    shortLoss += sorted[sorted.length - 1 - i]!;
  }
  return { long: longLoss / k, short: shortLoss / k };
}

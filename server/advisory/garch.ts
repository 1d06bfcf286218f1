/**
 * GARCH(1,1) by Gaussian quasi-maximum likelihood, and its volatility forecast (issue 8). Pure.
 *
 *   σ²ₜ = ω + α·εₜ₋₁² + β·σ²ₜ₋₁,   εₜ = rₜ − mean(r)
 *
 * Variance targeting (Engle & Mezrich 1996): ω = V·(1 − α − β) with V the sample variance, so
 * the likelihood is maximized over (α, β) alone. The optimizer (Nelder–Mead, several starts)
 * works on unconstrained (u, v) with α + β = 0.9999·sigmoid(u) and α = (α + β)·sigmoid(v): that
 * keeps ω > 0, α, β ≥ 0 and α + β < 1 at every point it tries. Degenerate inputs (too short,
 * constant, non-finite) give a failure with its reason, never NaN.
 */
import { nelderMead } from "./optimize";

export type GarchFit = {
  readonly omega: number;
  readonly alpha: number;
  readonly beta: number;
  /** α + β: how slowly a shock to the variance decays (< 1). */
  readonly persistence: number;
  /** Long-run variance per period, ω / (1 − α − β) (= the sample variance, under targeting). */
  readonly longRunVariance: number;
  /** Conditional variance for the period after the last return. */
  readonly nextVariance: number;
  readonly meanReturn: number;
  readonly observations: number;
  /** The Gaussian log-likelihood at the fit (constant term included). */
  readonly logLikelihood: number;
};

export type GarchFailure = { readonly reason: "too_short" | "constant" | "non_finite"; readonly detail: string };

export type GarchResult = ({ readonly ok: true } & GarchFit) | ({ readonly ok: false } & GarchFailure);

export const GARCH_MIN_OBSERVATIONS = 50;
const MAX_PERSISTENCE = 0.9999;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

/** Negative log-likelihood (without the constant) of demeaned squared returns under (ω, α, β), σ²₁ = V. */
function negativeLogLikelihood(squares: Float64Array, omega: number, alpha: number, beta: number, initialVariance: number): number {
  let variance = initialVariance;
  let sum = 0;
  for (let t = 0; t < squares.length; t++) {
    if (t > 0) variance = omega + alpha * squares[t - 1]! + beta * variance;
    sum += Math.log(variance) + squares[t]! / variance;
  }
  return 0.5 * sum;
}

export function fitGarch(returns: readonly number[], minObservations = GARCH_MIN_OBSERVATIONS): GarchResult {
  const n = returns.length;
  if (n < minObservations) return { ok: false, reason: "too_short", detail: `${n} returns, at least ${minObservations} needed` };
  if (!returns.every(Number.isFinite)) return { ok: false, reason: "non_finite", detail: "a return is NaN or infinite" };
  let mean = 0;
  for (const r of returns) mean += r / n;
  const squares = new Float64Array(n);
  let variance = 0;
  for (let t = 0; t < n; t++) {
    const e = returns[t]! - mean;
    squares[t] = e * e;
    variance += (e * e) / n;
  }
  if (!(variance > 1e-24)) return { ok: false, reason: "constant", detail: `the returns do not vary (variance ${variance})` };

  const unpack = (x: readonly number[]) => {
    const persistence = MAX_PERSISTENCE * sigmoid(x[0]!);
    const alpha = persistence * sigmoid(x[1]!);
    return { alpha, beta: persistence - alpha, omega: variance * (1 - persistence), persistence };
  };
  const objective = (x: readonly number[]) => {
    const { omega, alpha, beta } = unpack(x);
    return negativeLogLikelihood(squares, omega, alpha, beta, variance);
  };
  const starts: [number, number][] = [
    [0.9, 0.1],
    [0.97, 0.06],
    [0.5, 0.3],
  ];
  let best = { x: [0, 0] as readonly number[], value: Infinity };
  for (const [persistence, share] of starts) {
    const found = nelderMead(objective, [logit(persistence / MAX_PERSISTENCE), logit(share)], { step: 0.6, tolerance: 1e-12, maxIterations: 600 });
    if (found.value < best.value) best = found;
  }
  // Polish from the best start with a smaller simplex.
  const polished = nelderMead(objective, best.x, { step: 0.1, tolerance: 1e-14, maxIterations: 600 });
  if (polished.value <= best.value) best = polished;

  const { omega, alpha, beta, persistence } = unpack(best.x);
  let conditional = variance;
  for (let t = 1; t < n; t++) conditional = omega + alpha * squares[t - 1]! + beta * conditional;
  const nextVariance = omega + alpha * squares[n - 1]! + beta * conditional;
  return {
    ok: true,
    omega,
    alpha,
    beta,
    persistence,
    longRunVariance: variance,
    nextVariance,
    meanReturn: mean,
    observations: n,
    logLikelihood: -best.value - 0.5 * n * Math.log(2 * Math.PI),
  };
}

export type VolatilityForecast = {
  /** Volatility of the next period, annualized (× √periodsPerYear). */
  readonly nextVolPerYear: number;
  /** Root of the mean forecast variance over the next `horizonPeriods` periods, annualized: the vol to price an option of that tenor with. */
  readonly horizonVolPerYear: number;
  readonly longRunVolPerYear: number;
  readonly periodsPerYear: number;
  readonly horizonPeriods: number;
};

/**
 * Forecast from a fit: E[σ²ₜ₊ₖ] = V + (α + β)^(k−1)·(σ²ₜ₊₁ − V), averaged over k = 1..h in
 * closed form. `periodsPerYear` is how many of the returns' periods make a year (252 for daily
 * bars of a stock, 252 × 390 for its 1-minute bars, 365 × 1440 for 1-minute bars of a 24/7 market).
 */
export function forecastVolatility(fit: GarchFit, horizonPeriods: number, periodsPerYear: number): VolatilityForecast {
  if (!(horizonPeriods >= 1) || !(periodsPerYear > 0) || !Number.isFinite(horizonPeriods) || !Number.isFinite(periodsPerYear)) {
    throw new RangeError(`forecastVolatility: horizonPeriods >= 1 and periodsPerYear > 0 required (${horizonPeriods}, ${periodsPerYear})`);
  }
  const p = fit.persistence;
  const h = horizonPeriods;
  const decay = p < 1e-12 ? 1 / h : -Math.expm1(h * Math.log(p)) / ((1 - p) * h);
  const meanVariance = fit.longRunVariance + (fit.nextVariance - fit.longRunVariance) * decay;
  return {
    nextVolPerYear: Math.sqrt(fit.nextVariance * periodsPerYear),
    horizonVolPerYear: Math.sqrt(Math.max(0, meanVariance) * periodsPerYear),
    longRunVolPerYear: Math.sqrt(fit.longRunVariance * periodsPerYear),
    periodsPerYear,
    horizonPeriods,
  };
}

/** Simulates a GARCH(1,1) series of `n` returns (mean 0) from standard normals `draw()`: for tests and benches. */
export function simulateGarch(n: number, params: { omega: number; alpha: number; beta: number }, draw: () => number, burnIn = 500): number[] {
  const { omega, alpha, beta } = params;
  let variance = omega / (1 - alpha - beta);
  let previous = 0;
  const out: number[] = [];
  for (let t = -burnIn; t < n; t++) {
    variance = omega + alpha * previous * previous + beta * variance;
    previous = Math.sqrt(variance) * draw();
    if (t >= 0) out.push(previous);
  }
  return out;
}

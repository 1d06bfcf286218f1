/**
 * The chaos engine (SPEC section 3, advisory; issue 8): Monte Carlo jump diffusion
 *
 *   dS = μ·S·dt + σ·S·dW + J·S·dN,   ln(1 + J) ~ N(μJ, σJ²),   N Poisson with intensity λ
 *
 * with μ and σ estimated from the symbol's log returns and λ, μJ, σJ from their tail (returns
 * more than `tailSigmas` standard deviations from the mean are jumps; the rest is diffusion).
 * Time is counted in the returns' own periods (one bar), so nothing needs annualizing.
 *
 * Three path types share the same random draws (common random numbers, so their differences are
 * the scenario and not noise):
 * - normal: the estimated jump diffusion;
 * - flash_crash: the same path with one extra downward jump of `flashCrashPct` at mid-horizon
 *   (it does not recover within the horizon: conservative);
 * - gap_down: the same path opening `gapDownPct` below the last price (the gap is there at the
 *   first observation).
 *
 * For a position and an account's distance to its loss floors it reports, per path type, the
 * ruin rate (share of paths whose worst point along the path breaches the nearer floor) and
 * quantiles of the loss at the horizon and of the worst loss along the path.
 *
 * Deterministic: paths come in blocks of `BLOCK_PATHS`, block b drawing from the seed
 * mixSeed(seed, b), so the numbers depend on the seed only, never on how blocks are split among
 * workers (see chaos-pool.ts). Pure.
 */
import { z } from "zod";
import { Random, mixSeed } from "./random";

export const BLOCK_PATHS = 250;

export const PathType = z.enum(["normal", "flash_crash", "gap_down"]);
export type PathType = z.infer<typeof PathType>;

const finite = z.number().refine(Number.isFinite, "must be finite");

/** The jump diffusion per period of the returns. */
export const JumpDiffusion = z.strictObject({
  /** μ: drift of dS/S per period (of the diffusion; the jumps add their own mean). */
  muPerPeriod: finite,
  /** σ: diffusion volatility per period. */
  sigmaPerPeriod: finite.min(0),
  /** λ: expected jumps per period. */
  jumpsPerPeriod: finite.min(0),
  /** Mean and standard deviation of a jump's log size ln(1 + J). */
  jumpLogMean: finite,
  jumpLogStd: finite.min(0),
  observations: z.number().int().nonnegative(),
  jumpObservations: z.number().int().nonnegative(),
  tailSigmas: finite.positive(),
});
export type JumpDiffusion = z.infer<typeof JumpDiffusion>;

/**
 * A position: its price in the instrument's quote currency; `quoteCurrency` and `accountPerQuote`
 * (units of the account's currency per unit of it, the engine's rate) only when the quote
 * currency is not the account's. Its P/L is quantity × contract size × move × `accountPerQuote`
 * (1 when absent): in the account's currency, as its equity and floors are.
 */
export const ChaosPosition = z.strictObject({
  side: z.enum(["long", "short"]),
  quantity: finite.positive(),
  price: finite.positive(),
  contractSize: finite.positive(),
  quoteCurrency: z.string().optional(),
  accountPerQuote: finite.positive().optional(),
});
export type ChaosPosition = z.infer<typeof ChaosPosition>;

/** The account's equity and loss floors (AccountView's `equity`, `dailyLossFloor`, `maxLossFloor`), in the account's currency. */
export const FloorAccount = z.strictObject({
  equity: finite,
  dailyLossFloor: finite,
  maxLossFloor: finite,
});
export type FloorAccount = z.infer<typeof FloorAccount>;

export const ChaosRequest = z.strictObject({
  seed: z.number().int().min(0).max(0xffffffff),
  /** Paths per path type (the three types share them). */
  paths: z.number().int().min(1).max(1_000_000),
  steps: z.number().int().min(1).max(10_000),
  /** Horizon in periods of the returns (e.g. 1 day of 1-minute bars of a 24/7 market: 1440). */
  horizonPeriods: finite.positive(),
  model: JumpDiffusion,
  position: ChaosPosition,
  account: FloorAccount,
  flashCrashPct: finite.min(0).max(99),
  gapDownPct: finite.min(0).max(99),
});
export type ChaosRequest = z.infer<typeof ChaosRequest>;

export const LossQuantiles = z.strictObject({ p50: finite, p95: finite, p99: finite, worst: finite });
export type LossQuantiles = z.infer<typeof LossQuantiles>;

export const PathTypeReport = z.strictObject({
  /** Share of paths breaching either floor at some point, in %. */
  ruinRatePct: finite,
  /** Its Monte Carlo standard error, √(p(1 − p)/n), in %. */
  ruinRateStdErrPct: finite,
  dailyLossBreachPct: finite,
  maxLossBreachPct: finite,
  /** Loss at the horizon (negative: a gain), in the account's currency. */
  endLoss: LossQuantiles,
  /** Worst loss along the path, in the account's currency. */
  peakLoss: LossQuantiles,
});
export type PathTypeReport = z.infer<typeof PathTypeReport>;

export const ChaosReport = z.strictObject({
  seed: z.number().int(),
  paths: z.number().int(),
  steps: z.number().int(),
  horizonPeriods: finite,
  model: JumpDiffusion,
  flashCrashPct: finite,
  gapDownPct: finite,
  /** How far equity is above each floor now, in the account's currency. */
  distanceToDailyFloor: finite,
  distanceToMaxFloor: finite,
  byPathType: z.strictObject({ normal: PathTypeReport, flash_crash: PathTypeReport, gap_down: PathTypeReport }),
});
export type ChaosReport = z.infer<typeof ChaosReport>;

export type EstimateFailure = { readonly ok: false; readonly reason: "too_short" | "non_finite" | "constant"; readonly detail: string };

export const CHAOS_MIN_RETURNS = 30;

/**
 * μ, σ from the non-tail returns (log-return mean m and variance v per period: σ² = v,
 * μ = m + v/2); λ = (tail count)/n; μJ, σJ from the tail returns less m. With no tail return
 * λ is 0. `zeroDrift` sets μ to 0 (a conservative choice for short horizons, where a sample
 * mean is mostly noise).
 */
export function estimateJumpDiffusion(
  returns: readonly number[],
  options: { tailSigmas?: number; zeroDrift?: boolean; minReturns?: number } = {},
): ({ readonly ok: true } & JumpDiffusion) | EstimateFailure {
  const { tailSigmas = 3, zeroDrift = false, minReturns = CHAOS_MIN_RETURNS } = options;
  const n = returns.length;
  if (n < minReturns) return { ok: false, reason: "too_short", detail: `${n} returns, at least ${minReturns} needed` };
  if (!returns.every(Number.isFinite)) return { ok: false, reason: "non_finite", detail: "a return is NaN or infinite" };
  const mean = returns.reduce((sum, r) => sum + r, 0) / n;
  const sd = Math.sqrt(returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (n - 1));
  if (!(sd > 1e-12)) return { ok: false, reason: "constant", detail: `the returns do not vary (sd ${sd})` };
  const body: number[] = [];
  const tail: number[] = [];
  for (const r of returns) (Math.abs(r - mean) > tailSigmas * sd ? tail : body).push(r);
  const m = body.reduce((sum, r) => sum + r, 0) / body.length;
  const v = body.length > 1 ? body.reduce((sum, r) => sum + (r - m) ** 2, 0) / (body.length - 1) : sd * sd;
  const jumps = tail.map((r) => r - m);
  const jumpLogMean = jumps.length > 0 ? jumps.reduce((sum, j) => sum + j, 0) / jumps.length : 0;
  const jumpLogStd = jumps.length > 1 ? Math.sqrt(jumps.reduce((sum, j) => sum + (j - jumpLogMean) ** 2, 0) / (jumps.length - 1)) : 0;
  return {
    ok: true,
    muPerPeriod: zeroDrift ? 0 : m + v / 2,
    sigmaPerPeriod: Math.sqrt(v),
    jumpsPerPeriod: tail.length / n,
    jumpLogMean,
    jumpLogStd,
    observations: n,
    jumpObservations: tail.length,
    tailSigmas,
  };
}

/** Values per path in `simulatePaths`' output: end and peak loss of each path type. */
export const VALUES_PER_PATH = 6;

export function blockCount(paths: number): number {
  return Math.ceil(paths / BLOCK_PATHS);
}

/**
 * Simulates blocks [fromBlock, toBlock) and returns, per path in order, the six values
 * [normal end, normal peak, flash end, flash peak, gap end, gap peak] (losses in the account's currency).
 */
export function simulatePaths(request: ChaosRequest, fromBlock: number, toBlock: number): Float64Array {
  const { paths, steps, horizonPeriods, model, position, flashCrashPct, gapDownPct, seed } = request;
  const firstPath = fromBlock * BLOCK_PATHS;
  const endPath = Math.min(paths, toBlock * BLOCK_PATHS);
  const out = new Float64Array(Math.max(0, endPath - firstPath) * VALUES_PER_PATH);

  const dt = horizonPeriods / steps;
  const driftPerStep = (model.muPerPeriod - 0.5 * model.sigmaPerPeriod * model.sigmaPerPeriod) * dt;
  const volPerStep = model.sigmaPerPeriod * Math.sqrt(dt);
  const jumpMean = model.jumpsPerPeriod * dt;
  const noJump = Math.exp(-jumpMean);
  const { jumpLogMean, jumpLogStd } = model;
  const flash = Math.log1p(-flashCrashPct / 100);
  const gap = Math.log1p(-gapDownPct / 100);
  // The flash crash hits at point midStep (after midStep steps); points 0..midStep−1 come before it.
  const midStep = Math.max(1, Math.floor(steps / 2));
  const notional = position.quantity * position.contractSize * position.price * (position.accountPerQuote ?? 1);
  const long = position.side === "long";
  // Loss in the account's currency when the log price has moved by y.
  const loss = long ? (y: number) => -notional * Math.expm1(y) : (y: number) => notional * Math.expm1(y);

  const normals = new Float64Array(steps);
  const uniforms = new Float64Array(jumpMean > 0 ? steps : 0);
  let o = 0;
  for (let block = fromBlock; block < toBlock; block++) {
    const random = new Random(mixSeed(seed, block));
    const blockEnd = Math.min(paths, (block + 1) * BLOCK_PATHS);
    for (let path = block * BLOCK_PATHS; path < blockEnd; path++) {
      // Per path: the diffusion's normals, then (with jumps) a uniform per step, then the jump sizes.
      random.fillNormals(normals, steps);
      if (jumpMean > 0) random.fillUniforms(uniforms, steps);
      let x = 0;
      // Extremes of the log price over points before the flash crash (0..midStep−1) and from it on.
      let minPre = 0, maxPre = 0;
      let minPost = Infinity, maxPost = -Infinity;
      for (let step = 1; step <= steps; step++) {
        x += driftPerStep + volPerStep * normals[step - 1]!;
        if (jumpMean > 0) {
          const u = uniforms[step - 1]!;
          if (u > noJump) {
            // Poisson by inversion: at least one jump.
            let k = 1, p = noJump * jumpMean, cumulative = noJump + p;
            while (u > cumulative && k < 50) {
              k++;
              p *= jumpMean / k;
              cumulative += p;
            }
            for (let j = 0; j < k; j++) x += jumpLogMean + jumpLogStd * random.normal();
          }
        }
        if (step < midStep) {
          if (x < minPre) minPre = x;
          else if (x > maxPre) maxPre = x;
        } else {
          if (x < minPost) minPost = x;
          if (x > maxPost) maxPost = x;
        }
      }
      const minAll = Math.min(minPre, minPost), maxAll = Math.max(maxPre, maxPost);
      const worstNormal = long ? minAll : maxAll;
      const worstFlash = long ? Math.min(minPre, minPost + flash) : Math.max(maxPre, maxPost + flash);
      out[o++] = loss(x);
      out[o++] = loss(worstNormal);
      out[o++] = loss(x + flash);
      out[o++] = loss(worstFlash);
      out[o++] = loss(x + gap);
      out[o++] = loss(worstNormal + gap);
    }
  }
  return out;
}

const pct = (count: number, n: number) => (100 * count) / n;

/**
 * Puts the k-th smallest of a[lo..hi] at a[k], smaller ones before it, larger after (Hoare's
 * selection with a median-of-three pivot: deterministic, O(n) on average).
 */
function select(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three to a[mid].
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** The p50, p95, p99 and the largest of `values` (reordered in place): the values a full sort would give at those ranks. */
function quantilesOf(values: Float64Array): LossQuantiles {
  const n = values.length;
  const rank = (q: number) => Math.min(n - 1, Math.floor(q * n));
  const r50 = rank(0.5), r95 = rank(0.95), r99 = rank(0.99);
  select(values, r50, 0, n - 1);
  select(values, r95, r50, n - 1);
  select(values, r99, r95, n - 1);
  let worst = values[r99]!;
  for (let i = r99 + 1; i < n; i++) if (values[i]! > worst) worst = values[i]!;
  return { p50: values[r50]!, p95: values[r95]!, p99: values[r99]!, worst };
}

/** The report from all paths' values (the output of `simulatePaths` over every block, in order). */
export function summarizeChaos(request: ChaosRequest, values: Float64Array): ChaosReport {
  const n = request.paths;
  if (values.length !== n * VALUES_PER_PATH) throw new Error(`chaos: ${values.length / VALUES_PER_PATH} paths simulated, ${n} requested`);
  const { equity, dailyLossFloor, maxLossFloor } = request.account;
  const toDaily = equity - dailyLossFloor;
  const toMax = equity - maxLossFloor;
  const report = (offset: number): PathTypeReport => {
    const end = new Float64Array(n);
    const peak = new Float64Array(n);
    let daily = 0, max = 0, ruin = 0;
    for (let i = 0; i < n; i++) {
      const peakLoss = values[i * VALUES_PER_PATH + offset + 1]!;
      end[i] = values[i * VALUES_PER_PATH + offset]!;
      peak[i] = peakLoss;
      const breachesDaily = peakLoss >= toDaily, breachesMax = peakLoss >= toMax;
      if (breachesDaily) daily++;
      if (breachesMax) max++;
      if (breachesDaily || breachesMax) ruin++;
    }
    const p = ruin / n;
    return {
      ruinRatePct: pct(ruin, n),
      ruinRateStdErrPct: 100 * Math.sqrt((p * (1 - p)) / n),
      dailyLossBreachPct: pct(daily, n),
      maxLossBreachPct: pct(max, n),
      endLoss: quantilesOf(end),
      peakLoss: quantilesOf(peak),
    };
  };
  return {
    seed: request.seed,
    paths: n,
    steps: request.steps,
    horizonPeriods: request.horizonPeriods,
    model: request.model,
    flashCrashPct: request.flashCrashPct,
    gapDownPct: request.gapDownPct,
    distanceToDailyFloor: toDaily,
    distanceToMaxFloor: toMax,
    byPathType: { normal: report(0), flash_crash: report(2), gap_down: report(4) },
  };
}

/** The synchronous core: every block on this thread. Same numbers as `runChaos` (chaos-pool.ts). */
export function simulateChaos(request: ChaosRequest): ChaosReport {
  ChaosRequest.parse(request); // fail closed on a non-finite or out-of-range input
  return summarizeChaos(request, simulatePaths(request, 0, blockCount(request.paths)));
}

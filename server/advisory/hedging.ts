/**
 * Tail hedging (SPEC section 3, advisory; issue 8): three option structures around a position,
 * priced with Black-Scholes. Pure.
 *
 * For a long position: a protective put, a put spread (buy the upper put, sell the lower) and a
 * zero-cost collar (buy the put, sell the call whose premium pays for it). For a short position
 * the mirror: a protective call, a call spread and a collar (buy the call, sell a put).
 *
 * Volatility: the GARCH(1,1) forecast averaged over the option's tenor (garch.ts), annualized;
 * when the fit fails (too few returns, constant) the sample volatility of the returns; when that
 * fails too, no hedge is priced and the report says why. Figures at expiry, per the whole
 * position (units = quantity × contract size); premiums are paid (> 0) or received (< 0). Prices
 * and per-unit figures (strikes, premiums per unit, breakeven) are in the instrument's quote
 * currency; the position's amounts (`premium`, `maxLoss`, `maxGain`) in the account's, converted
 * at the position's `accountPerQuote`.
 */
import { z } from "zod";
import type { OptionType } from "./black-scholes";
import { blackScholes } from "./black-scholes";
import type { ChaosPosition } from "./chaos";
import type { GarchResult } from "./garch";
import { fitGarch, forecastVolatility } from "./garch";

export const HedgeLeg = z.strictObject({
  type: z.enum(["call", "put"]),
  /** +1 bought, −1 sold. */
  direction: z.union([z.literal(1), z.literal(-1)]),
  strike: z.number(),
  premiumPerUnit: z.number(),
});
export type HedgeLeg = z.infer<typeof HedgeLeg>;

export const HedgeGreeks = z.strictObject({
  delta: z.number(),
  gamma: z.number(),
  vegaPerVol: z.number(),
  thetaPerYear: z.number(),
  rhoPerRate: z.number(),
});

export const Hedge = z.strictObject({
  structure: z.enum(["protective_put", "put_spread", "collar", "protective_call", "call_spread"]),
  legs: z.array(HedgeLeg),
  /** Net premium per unit of the underlying (quote currency) and for the position (account's currency; paid > 0). */
  netPremiumPerUnit: z.number(),
  premium: z.number(),
  costPctOfPosition: z.number(),
  /** Underlying price at expiry at which the hedged position breaks even. */
  breakeven: z.number(),
  /** Worst P/L of the hedged position at expiry, as a loss (account's currency); null: unbounded. */
  maxLoss: z.number().nullable(),
  /** Best P/L at expiry (account's currency); null: unbounded. */
  maxGain: z.number().nullable(),
  /** The Greeks of the options alone, for the whole position (delta in units of the underlying; the others in the quote currency). */
  greeks: HedgeGreeks,
  /** Delta of position plus hedge, in units of the underlying. */
  hedgedDelta: z.number(),
});
export type Hedge = z.infer<typeof Hedge>;

export const VolatilityEstimate = z.strictObject({
  source: z.enum(["garch", "sample"]),
  volPerYear: z.number(),
  periodsPerYear: z.number(),
  garch: z.strictObject({ omega: z.number(), alpha: z.number(), beta: z.number(), persistence: z.number() }).nullable(),
  /** Why the GARCH fit was not used (when it was not). */
  fallbackReason: z.string().nullable(),
});
export type VolatilityEstimate = z.infer<typeof VolatilityEstimate>;

export const HedgeReport = z.discriminatedUnion("status", [
  z.strictObject({
    status: z.literal("priced"),
    spot: z.number(),
    units: z.number(),
    tenorDays: z.number(),
    ratePerYear: z.number(),
    volatility: VolatilityEstimate,
    hedges: z.array(Hedge),
  }),
  z.strictObject({ status: z.literal("unavailable"), reason: z.string() }),
]);
export type HedgeReport = z.infer<typeof HedgeReport>;

import { HedgeParams } from "../engine/advisory-config";

export { HedgeParams };

/**
 * Annualized volatility for a tenor of `tenorPeriods` periods: the GARCH forecast, or the sample
 * volatility when the fit failed. Null when neither can be had (fewer than 2 returns, or none vary).
 */
export function volatilityFor(
  returns: readonly number[],
  periodsPerYear: number,
  tenorPeriods: number,
  fit: GarchResult = fitGarch(returns),
): VolatilityEstimate | null {
  if (fit.ok) {
    const forecast = forecastVolatility(fit, Math.max(1, tenorPeriods), periodsPerYear);
    return {
      source: "garch",
      volPerYear: forecast.horizonVolPerYear,
      periodsPerYear,
      garch: { omega: fit.omega, alpha: fit.alpha, beta: fit.beta, persistence: fit.persistence },
      fallbackReason: null,
    };
  }
  const n = returns.length;
  if (n < 2 || !returns.every(Number.isFinite)) return null;
  const mean = returns.reduce((s, r) => s + r, 0) / n;
  const variance = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (n - 1);
  if (!(variance > 1e-24)) return null;
  return {
    source: "sample",
    volPerYear: Math.sqrt(variance * periodsPerYear),
    periodsPerYear,
    garch: null,
    fallbackReason: `GARCH(1,1) not used: ${fit.detail}`,
  };
}

type Market = { spot: number; ratePerYear: number; volPerYear: number; years: number };

const quote = (type: OptionType, strike: number, m: Market) =>
  blackScholes({ type, spot: m.spot, strike, ratePerYear: m.ratePerYear, volPerYear: m.volPerYear, years: m.years });

/** Strike of `type` whose premium equals `target` (bisection; premium is monotone in the strike). */
export function strikeForPremium(type: OptionType, target: number, m: Market, low: number, high: number): number {
  let lo = low, hi = high;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * m.spot; i++) {
    const mid = 0.5 * (lo + hi);
    const premium = quote(type, mid, m).price;
    // A call's premium falls as the strike rises; a put's rises.
    if (type === "call" ? premium > target : premium < target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** `perUnit`: units of the account's currency per unit of the quote currency (the position's amounts are converted at it). */
function structure(name: Hedge["structure"], legs: { type: OptionType; direction: 1 | -1; strike: number }[], m: Market, units: number, side: ChaosPosition["side"], perUnit: number): Hedge {
  const priced = legs.map((leg) => ({ leg, q: quote(leg.type, leg.strike, m) }));
  const net = priced.reduce((sum, { leg, q }) => sum + leg.direction * q.price, 0);
  const sum = (pick: (q: ReturnType<typeof quote>) => number) => units * priced.reduce((s, { leg, q }) => s + leg.direction * pick(q), 0);
  const greeks = { delta: sum((q) => q.delta), gamma: sum((q) => q.gamma), vegaPerVol: sum((q) => q.vegaPerVol), thetaPerYear: sum((q) => q.thetaPerYear), rhoPerRate: sum((q) => q.rhoPerRate) };
  // P/L per unit at expiry with the underlying at x.
  const sign = side === "long" ? 1 : -1;
  const payoff = (x: number) => sign * (x - m.spot) - net + legs.reduce((s, leg) => s + leg.direction * Math.max(0, leg.type === "call" ? x - leg.strike : leg.strike - x), 0);
  // Piecewise linear: extremes at 0, at the strikes, or unbounded beyond the last strike.
  const xs = [0, m.spot, ...legs.map((leg) => leg.strike)];
  const values = xs.map(payoff);
  const top = Math.max(...legs.map((l) => l.strike), m.spot) * 2 + 1;
  const slopeAbove = payoff(top + 1) - payoff(top);
  const worst = Math.min(...values);
  const best = Math.max(...values);
  return {
    structure: name,
    legs: priced.map(({ leg, q }) => ({ ...leg, premiumPerUnit: q.price })),
    netPremiumPerUnit: net,
    premium: net * units * perUnit,
    costPctOfPosition: (net / m.spot) * 100,
    breakeven: m.spot + sign * net,
    maxLoss: slopeAbove < -1e-9 ? null : Math.max(0, -worst) * units * perUnit,
    maxGain: slopeAbove > 1e-9 ? null : best * units * perUnit,
    greeks,
    hedgedDelta: sign * units + greeks.delta,
  };
}

export type HedgeInput = {
  readonly position: ChaosPosition;
  /** Log returns (values only), oldest first. */
  readonly returns: readonly number[];
  readonly periodsPerYear: number;
  readonly params?: z.input<typeof HedgeParams>;
  /** A fit of these returns already made (the memo caches them); fitted here otherwise. */
  readonly garch?: GarchResult;
};

export function priceHedges(input: HedgeInput): HedgeReport {
  const { position, returns, periodsPerYear } = input;
  const params = HedgeParams.parse(input.params ?? {});
  const spot = position.price;
  const units = position.quantity * position.contractSize;
  const perUnit = position.accountPerQuote ?? 1;
  const years = params.tenorDays / 365;
  const volatility = volatilityFor(returns, periodsPerYear, (params.tenorDays / 365) * periodsPerYear, input.garch);
  if (!volatility) return { status: "unavailable", reason: `no volatility: ${returns.length} returns, fewer than 2 or none vary` };
  const m: Market = { spot, ratePerYear: params.ratePerYear, volPerYear: volatility.volPerYear, years };
  const otm = params.protectionOtmPct / 100;
  const width = params.spreadWidthPct / 100;
  let hedges: Hedge[];
  if (position.side === "long") {
    const put = spot * (1 - otm);
    const lower = Math.max(spot * 1e-6, spot * (1 - otm - width));
    const putPremium = quote("put", put, m).price;
    const call = strikeForPremium("call", putPremium, m, spot * 1e-6, spot * 50);
    hedges = [
      structure("protective_put", [{ type: "put", direction: 1, strike: put }], m, units, "long", perUnit),
      structure("put_spread", [{ type: "put", direction: 1, strike: put }, { type: "put", direction: -1, strike: lower }], m, units, "long", perUnit),
      structure("collar", [{ type: "put", direction: 1, strike: put }, { type: "call", direction: -1, strike: call }], m, units, "long", perUnit),
    ];
  } else {
    const call = spot * (1 + otm);
    const upper = spot * (1 + otm + width);
    const callPremium = quote("call", call, m).price;
    const put = strikeForPremium("put", callPremium, m, spot * 1e-6, spot * 50);
    hedges = [
      structure("protective_call", [{ type: "call", direction: 1, strike: call }], m, units, "short", perUnit),
      structure("call_spread", [{ type: "call", direction: 1, strike: call }, { type: "call", direction: -1, strike: upper }], m, units, "short", perUnit),
      structure("collar", [{ type: "call", direction: 1, strike: call }, { type: "put", direction: -1, strike: put }], m, units, "short", perUnit),
    ];
  }
  return { status: "priced", spot, units, tenorDays: params.tenorDays, ratePerYear: params.ratePerYear, volatility, hedges };
}

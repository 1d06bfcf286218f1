/**
 * Black-Scholes prices and Greeks of European options on a non-dividend-paying underlying
 * (issue 8). Pure. Units: spot and strike in price units, the rate and the volatility per year
 * as fractions (0.05, 0.2), the time to expiry in years. Greeks are per unit of the underlying:
 * delta and gamma per price unit, vega per 1.00 of volatility, theta per year, rho per 1.00 of
 * rate (divide vega and rho by 100 for "per point", theta by 365 for "per day").
 */

export type OptionType = "call" | "put";

export type OptionInput = {
  readonly type: OptionType;
  readonly spot: number;
  readonly strike: number;
  readonly ratePerYear: number;
  readonly volPerYear: number;
  readonly years: number;
};

export type Greeks = {
  readonly delta: number;
  readonly gamma: number;
  readonly vegaPerVol: number;
  readonly thetaPerYear: number;
  readonly rhoPerRate: number;
};

export type OptionQuote = { readonly price: number } & Greeks;

const SQRT_2PI = 2.5066282746310002;

/** The standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/**
 * The standard normal distribution function: Hart's double-precision algorithm 5666 (1968) as
 * given by West, "Better approximations to cumulative normal functions" (Wilmott, 2005). The
 * tail is computed directly (not as 1 − the other side), so Φ(−8) keeps its digits; accurate to
 * about 1e-14 absolute against erfc (see test/unit/advisory-black-scholes.test.ts).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let f = z + 0.65;
      f = z + 4 / f;
      f = z + 3 / f;
      f = z + 2 / f;
      f = z + 1 / f;
      tail = e / f / SQRT_2PI;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

function assertInput(input: OptionInput): void {
  const { spot, strike, ratePerYear, volPerYear, years } = input;
  if (![spot, strike, ratePerYear, volPerYear, years].every(Number.isFinite)) throw new RangeError("Black-Scholes: every input must be finite");
  if (spot <= 0 || strike <= 0) throw new RangeError("Black-Scholes: spot and strike must be positive");
  if (volPerYear < 0 || years < 0) throw new RangeError("Black-Scholes: volatility and time must not be negative");
}

/**
 * Price and Greeks. At expiry or with zero volatility the option is worth its discounted
 * intrinsic value on the forward (its Greeks are then those of that limit: gamma and vega 0).
 */
export function blackScholes(input: OptionInput): OptionQuote {
  assertInput(input);
  const { type, spot: s, strike: k, ratePerYear: r, volPerYear: sigma, years: t } = input;
  const discount = Math.exp(-r * t);
  const sqrtT = Math.sqrt(t);
  const volSqrtT = sigma * sqrtT;
  if (volSqrtT < 1e-12) {
    const forwardIntrinsic = type === "call" ? s - k * discount : k * discount - s;
    const inTheMoney = forwardIntrinsic > 0;
    const sign = type === "call" ? 1 : -1;
    return {
      price: Math.max(0, forwardIntrinsic),
      delta: inTheMoney ? sign : 0,
      gamma: 0,
      vegaPerVol: 0,
      thetaPerYear: inTheMoney ? -sign * r * k * discount : 0,
      rhoPerRate: inTheMoney ? sign * k * t * discount : 0,
    };
  }
  const d1 = (Math.log(s / k) + (r + 0.5 * sigma * sigma) * t) / volSqrtT;
  const d2 = d1 - volSqrtT;
  const pdf = normalPdf(d1);
  const gamma = pdf / (s * volSqrtT);
  const vegaPerVol = s * pdf * sqrtT;
  const decay = (-s * pdf * sigma) / (2 * sqrtT);
  if (type === "call") {
    const nd1 = normalCdf(d1), nd2 = normalCdf(d2);
    return {
      price: s * nd1 - k * discount * nd2,
      delta: nd1,
      gamma,
      vegaPerVol,
      thetaPerYear: decay - r * k * discount * nd2,
      rhoPerRate: k * t * discount * nd2,
    };
  }
  const nMinusD1 = normalCdf(-d1), nMinusD2 = normalCdf(-d2);
  return {
    price: k * discount * nMinusD2 - s * nMinusD1,
    delta: -nMinusD1,
    gamma,
    vegaPerVol,
    thetaPerYear: decay + r * k * discount * nMinusD2,
    rhoPerRate: -k * t * discount * nMinusD2,
  };
}

export function optionPrice(input: OptionInput): number {
  return blackScholes(input).price;
}

import type { Instrument } from "./config";
import type { SymbolId } from "./ids";

/**
 * Money is booked in USD whatever an instrument is quoted in. An instrument's P/L, notional and
 * risk come out in its quote currency (USDJPY: yen; EURGBP: pounds); they are converted at the
 * last price of the quote currency's USD pair: `GBPUSD` (USD per pound) directly, `USDJPY` (yen
 * per USD) inverted. Pure: rates are read from the market state the caller passes.
 */

/** ISO 4217 codes (the runtime's list) and the metals traded against them (XAU, XAG, XPT, XPD). */
const currencies = new Set([...Intl.supportedValuesOf("currency"), "XAU", "XAG", "XPT", "XPD"]);

/** Whether `symbol` is six letters naming two currencies (EURGBP, USDJPY, XAUUSD). */
export function isCurrencyPair(symbol: string): boolean {
  return /^[A-Z]{6}$/.test(symbol) && currencies.has(symbol.slice(0, 3)) && currencies.has(symbol.slice(3));
}

/** The currency `symbol`'s prices are in: the instrument's own, else a pair's second half, else USD. */
export function quoteCurrencyOf(symbol: SymbolId | string, instrument: Pick<Instrument, "quoteCurrency"> | undefined): string {
  return instrument?.quoteCurrency ?? (isCurrencyPair(symbol) ? symbol.slice(3) : "USD");
}

/** How a quote currency becomes USD: nothing to do for USD, else the two pairs that can price it. */
export type Conversion = { readonly currency: string; readonly direct: SymbolId; readonly inverse: SymbolId } | null;

const conversions = new Map<string, Conversion>();

export function conversionOf(currency: string): Conversion {
  if (currency === "USD") return null;
  let conversion = conversions.get(currency);
  if (conversion === undefined) {
    conversion = { currency, direct: `${currency}USD` as SymbolId, inverse: `USD${currency}` as SymbolId };
    conversions.set(currency, conversion);
  }
  return conversion;
}

/** What a conversion reads from a symbol's market state. */
type Priced = { readonly lastPrice: number | null; readonly lastPriceAt: number | null };

/** The price a conversion rests on: the pair, its last price and time, and USD per unit of the quote currency. */
export type Rate = { readonly symbol: SymbolId; readonly usdPerUnit: number; readonly at: number };

/** USD per unit of the conversion's currency from the last prices, or null when neither pair has one. */
export function rateOf(conversion: Conversion, market: ReadonlyMap<SymbolId, Priced>): Rate | null {
  if (conversion === null) return null;
  const direct = market.get(conversion.direct);
  if (direct?.lastPrice != null && direct.lastPriceAt !== null) return { symbol: conversion.direct, usdPerUnit: direct.lastPrice, at: direct.lastPriceAt };
  const inverse = market.get(conversion.inverse);
  if (inverse?.lastPrice != null && inverse.lastPriceAt !== null) return { symbol: conversion.inverse, usdPerUnit: 1 / inverse.lastPrice, at: inverse.lastPriceAt };
  return null;
}

/** USD per unit of quote currency: 1 for USD, the rate otherwise, null when no price gives it. */
export function usdPerUnit(conversion: Conversion, market: ReadonlyMap<SymbolId, Priced>): number | null {
  if (conversion === null) return 1;
  return rateOf(conversion, market)?.usdPerUnit ?? null;
}

/** USD per unit of the conversion's currency from prices looked up by symbol (a backtest's marks, the verifier's books). */
export function usdPerUnitFrom(conversion: Conversion, priceOf: (symbol: SymbolId) => number | null | undefined): number | null {
  if (conversion === null) return 1;
  const direct = priceOf(conversion.direct);
  if (direct != null) return direct;
  const inverse = priceOf(conversion.inverse);
  return inverse == null ? null : 1 / inverse;
}

/** The pair a trader would send prices for to convert `currency` (the direct one: GBPUSD for GBP). */
export function pairNeeded(conversion: NonNullable<Conversion>): string {
  return `${conversion.direct} or ${conversion.inverse}`;
}

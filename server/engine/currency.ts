import type { Instrument } from "./config";
import type { SymbolId } from "./ids";

/**
 * Money is booked in USD whatever an instrument is quoted in. An instrument's P/L, notional and
 * risk come out in its quote currency (USDJPY: yen; EURGBP: pounds); they are converted at the
 * last price of the quote currency's USD pair: `GBPUSD` (USD per pound) directly, `USDJPY` (yen
 * per USD) inverted. Pure: rates are read from the market state the caller passes.
 */

/**
 * The ISO 4217 codes of national and regional currencies in use (the list of 2024). Left out on
 * purpose: the precious metals (XAU, XAG, XPT, XPD: XAGUSD is silver, not a currency pair),
 * the fund and accounting units (XDR, XSU, XUA, the BOV/CLF/COU/MXV/USN/UYI/UYW/CHE/CHW funds
 * codes) and the test codes (XTS, XXX).
 */
export const ISO_CURRENCIES: ReadonlySet<string> = new Set(
  (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
    "CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD " +
    "GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT " +
    "LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR " +
    "NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP " +
    "STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG " +
    "XOF XPF YER ZAR ZMW ZWG"
  ).split(" "),
);

/** A six-letter symbol whose halves are both ISO 4217 currencies (EURCHF), else null. */
export function currencyPair(symbol: string): { readonly base: string; readonly quote: string } | null {
  if (!/^[A-Z]{6}$/.test(symbol)) return null;
  const base = symbol.slice(0, 3);
  const quote = symbol.slice(3);
  return base !== quote && ISO_CURRENCIES.has(base) && ISO_CURRENCIES.has(quote) ? { base, quote } : null;
}

/** The metals quoted against currencies as six-letter symbols (XAUUSD, XAGEUR): priced in their second half. */
const METALS: ReadonlySet<string> = new Set(["XAU", "XAG", "XPT", "XPD"]);

/** The currency `symbol`'s prices are in: the instrument's own, else a currency or metal pair's second half, else USD. */
export function quoteCurrencyOf(symbol: SymbolId | string, instrument: Pick<Instrument, "quoteCurrency"> | undefined): string {
  if (instrument?.quoteCurrency) return instrument.quoteCurrency;
  const pair = currencyPair(symbol);
  if (pair) return pair.quote;
  return METALS.has(symbol.slice(0, 3)) && ISO_CURRENCIES.has(symbol.slice(3)) && symbol.length === 6 ? symbol.slice(3) : "USD";
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

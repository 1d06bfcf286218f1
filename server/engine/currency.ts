import type { Instrument } from "./config";
import type { SymbolId } from "./ids";

/**
 * Money is booked in the account's currency (USD unless the account says otherwise) whatever an
 * instrument is quoted in. An instrument's P/L, notional and risk come out in its quote currency
 * (USDJPY: yen; EURGBP: pounds); they are converted at the last price of a pair of the quote and
 * the account's currencies (for a USD account `GBPUSD`, USD per pound, directly; `USDJPY`, yen per
 * USD, inverted; for a EUR account `EURGBP` inverted), else through USD (yen to a EUR account:
 * `USDJPY` and `EURUSD`). Everything about conversion is here, so the engine, the verifier, the
 * backtest's raw books and the venue's fees convert alike. Pure: rates are read from the prices
 * the caller passes.
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

/**
 * How an amount in a quote currency becomes the account's currency (`from` → `to`): null when
 * they are the same (rate 1), else the pairs that can price it, tried in this order: the direct
 * pair (`GBPEUR`: euros per pound) as it is, the inverse (`EURGBP`) inverted, and when neither
 * currency is USD, through USD (`from` → USD, then USD → `to`, each the same way).
 */
export type Conversion = {
  /** The quote currency. */
  readonly currency: string;
  /** The account's currency. */
  readonly account: string;
  readonly direct: SymbolId;
  readonly inverse: SymbolId;
  /** From → USD and USD → account, when neither is USD. */
  readonly via: readonly [NonNullable<Conversion>, NonNullable<Conversion>] | null;
} | null;

const conversions = new Map<string, Conversion>();

/** The conversion of `currency` (an instrument's quote) into `account` (the account's currency; USD by default). Cached: the same object each time. */
export function conversionOf(currency: string, account = "USD"): Conversion {
  if (currency === account) return null;
  const key = `${currency}/${account}`;
  let conversion = conversions.get(key);
  if (conversion === undefined) {
    const via = currency === "USD" || account === "USD" ? null : ([conversionOf(currency, "USD")!, conversionOf("USD", account)!] as const);
    conversion = { currency, account, direct: `${currency}${account}` as SymbolId, inverse: `${account}${currency}` as SymbolId, via };
    conversions.set(key, conversion);
  }
  return conversion;
}

/** What a conversion reads from a symbol's market state. */
type Priced = { readonly lastPrice: number | null; readonly lastPriceAt: number | null };

/**
 * The price a conversion rests on: units of the account's currency per unit of the quote
 * currency, and the pair it came from with that pair's time; through USD, the older leg's pair
 * and time (the rate is as fresh as its stalest price).
 */
export type Rate = { readonly symbol: SymbolId; readonly perUnit: number; readonly at: number };

/** The rate of `conversion` at the last prices, or null when no pair (or way through USD) has a price. */
export function rateOf(conversion: Conversion, market: ReadonlyMap<SymbolId, Priced>): Rate | null {
  if (conversion === null) return null;
  const direct = market.get(conversion.direct);
  if (direct?.lastPrice != null && direct.lastPriceAt !== null) return { symbol: conversion.direct, perUnit: direct.lastPrice, at: direct.lastPriceAt };
  const inverse = market.get(conversion.inverse);
  if (inverse?.lastPrice != null && inverse.lastPriceAt !== null) return { symbol: conversion.inverse, perUnit: 1 / inverse.lastPrice, at: inverse.lastPriceAt };
  if (conversion.via === null) return null;
  const toUsd = rateOf(conversion.via[0], market);
  const fromUsd = toUsd && rateOf(conversion.via[1], market);
  if (!toUsd || !fromUsd) return null;
  const stalest = fromUsd.at < toUsd.at ? fromUsd : toUsd;
  return { symbol: stalest.symbol, perUnit: toUsd.perUnit * fromUsd.perUnit, at: stalest.at };
}

/** Units of the account's currency per unit of quote currency: 1 when they are the same, the rate otherwise, null when no price gives it. */
export function perUnit(conversion: Conversion, market: ReadonlyMap<SymbolId, Priced>): number | null {
  if (conversion === null) return 1;
  return rateOf(conversion, market)?.perUnit ?? null;
}

/** `perUnit` from prices looked up by symbol (a backtest's marks, the verifier's books, a venue's quotes), the pairs tried in the same order. */
export function perUnitFrom(conversion: Conversion, priceOf: (symbol: SymbolId) => number | null | undefined): number | null {
  if (conversion === null) return 1;
  const direct = priceOf(conversion.direct);
  if (direct != null) return direct;
  const inverse = priceOf(conversion.inverse);
  if (inverse != null) return 1 / inverse;
  if (conversion.via === null) return null;
  const toUsd = perUnitFrom(conversion.via[0], priceOf);
  const fromUsd = toUsd === null ? null : perUnitFrom(conversion.via[1], priceOf);
  return toUsd === null || fromUsd === null ? null : toUsd * fromUsd;
}

/** Whether `symbols` (a file's columns) hold a price that can give `conversion`'s rate. */
export function convertibleWith(conversion: NonNullable<Conversion>, symbols: ReadonlySet<string>): boolean {
  if (symbols.has(conversion.direct) || symbols.has(conversion.inverse)) return true;
  return conversion.via !== null && conversion.via.every((leg) => convertibleWith(leg, symbols));
}

/**
 * The pairs a trader would send prices for to convert the quote currency into the account's:
 * `GBPUSD or USDGBP`; when the way through USD is open too, its two legs after (`JPYEUR or
 * EURJPY, or JPYUSD or USDJPY with USDEUR or EURUSD`). A USD account's text is the one its
 * denials always carried (replay compares them).
 */
export function pairNeeded(conversion: NonNullable<Conversion>): string {
  const pairs = (leg: NonNullable<Conversion>) => `${leg.direct} or ${leg.inverse}`;
  if (conversion.via === null) return pairs(conversion);
  return `${pairs(conversion)}, or ${pairs(conversion.via[0])} with ${pairs(conversion.via[1])}`;
}

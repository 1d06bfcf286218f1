import type { EngineConfigInput, Instrument } from "./engine/config";

/**
 * Reference data for the instruments Riskgate knows out of the box: FX majors, metals, index
 * CFDs and crypto as prop-firm accounts trade them, and the cash indices and stock of the
 * bundled historical series. Quantities are in lots or contracts; ADV in the same units.
 */
export const defaultInstruments: NonNullable<EngineConfigInput["instruments"]> = {
  EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_500_000, quoteCurrency: "USD" },
  GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 900_000, quoteCurrency: "USD" },
  USDJPY: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.001, averageDailyVolume: 1_200_000, quoteCurrency: "JPY" },
  XAUUSD: { sector: "metals", cluster: "precious-metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 300_000, quoteCurrency: "USD" },
  US500: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 2_000_000, quoteCurrency: "USD" },
  NAS100: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1_500_000, quoteCurrency: "USD" },
  BTCUSD: { sector: "crypto", cluster: "crypto", contractSize: 1, tickSize: 0.01, averageDailyVolume: 40_000, quoteCurrency: "USD" },
  MSFT: { sector: "technology", cluster: "us-equity", contractSize: 1, tickSize: 0.01, averageDailyVolume: 25_000_000, quoteCurrency: "USD" },
  DAX: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 150_000, quoteCurrency: "EUR" },
  CAC: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 120_000, quoteCurrency: "EUR" },
  FTSE: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 120_000, quoteCurrency: "GBP" },
  SMI: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 60_000, quoteCurrency: "CHF" },
};

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

/**
 * What an instrument nobody stated is taken to be: a currency pair is FX (100,000 units a lot,
 * a tick of 0.00001, or 0.001 quoted in JPY, its quote currency the last three letters); anything
 * else an equity (one unit a contract, a cent tick). No volume: the caller knows it or not.
 */
export function guessInstrument(symbol: string): { readonly kind: "fx" | "equity"; readonly instrument: Instrument } {
  const pair = currencyPair(symbol);
  if (pair) {
    return { kind: "fx", instrument: { sector: "fx", contractSize: 100_000, tickSize: pair.quote === "JPY" ? 0.001 : 0.00001, quoteCurrency: pair.quote } };
  }
  return { kind: "equity", instrument: { sector: "equity", contractSize: 1, tickSize: 0.01 } };
}

import type { EngineConfigInput, Instrument } from "./engine/config";
import { currencyPair } from "./engine/currency";

/**
 * Reference data for the instruments Riskgate knows out of the box: FX majors, metals, index
 * CFDs and crypto as prop-firm accounts trade them, and the cash indices and stock of the
 * bundled historical series. Quantities are in lots or contracts; ADV in the same units. Lot steps
 * and minimums as retail brokers state them: 0.01 lots of FX and gold, 0.1 of an index CFD,
 * 0.0001 BTC, one share.
 */
export const defaultInstruments: NonNullable<EngineConfigInput["instruments"]> = {
  EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, lotStep: 0.01, minQuantity: 0.01, averageDailyVolume: 1_500_000, quoteCurrency: "USD" },
  GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, lotStep: 0.01, minQuantity: 0.01, averageDailyVolume: 900_000, quoteCurrency: "USD" },
  USDJPY: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.001, lotStep: 0.01, minQuantity: 0.01, averageDailyVolume: 1_200_000, quoteCurrency: "JPY" },
  XAUUSD: { sector: "metals", cluster: "precious-metals", contractSize: 100, tickSize: 0.01, lotStep: 0.01, minQuantity: 0.01, averageDailyVolume: 300_000, quoteCurrency: "USD" },
  US500: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 2_000_000, quoteCurrency: "USD" },
  NAS100: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 1_500_000, quoteCurrency: "USD" },
  BTCUSD: { sector: "crypto", cluster: "crypto", contractSize: 1, tickSize: 0.01, lotStep: 0.0001, minQuantity: 0.0001, averageDailyVolume: 40_000, quoteCurrency: "USD" },
  MSFT: { sector: "technology", cluster: "us-equity", contractSize: 1, tickSize: 0.01, lotStep: 1, minQuantity: 1, averageDailyVolume: 25_000_000, quoteCurrency: "USD" },
  DAX: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 150_000, quoteCurrency: "EUR" },
  CAC: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 120_000, quoteCurrency: "EUR" },
  FTSE: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 120_000, quoteCurrency: "GBP" },
  SMI: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, lotStep: 0.1, minQuantity: 0.1, averageDailyVolume: 60_000, quoteCurrency: "CHF" },
};


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

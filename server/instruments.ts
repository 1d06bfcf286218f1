import type { EngineConfigInput } from "./engine/config";

/**
 * Reference data for the instruments Riskgate knows out of the box: FX majors, metals, index
 * CFDs and crypto as prop-firm accounts trade them, and the cash indices and stock of the
 * bundled historical series. Quantities are in lots or contracts; ADV in the same units.
 */
export const defaultInstruments: NonNullable<EngineConfigInput["instruments"]> = {
  EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_500_000 },
  GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 900_000 },
  USDJPY: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.001, averageDailyVolume: 1_200_000 },
  XAUUSD: { sector: "metals", cluster: "precious-metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 300_000 },
  US500: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 2_000_000 },
  NAS100: { sector: "equity-index", cluster: "us-equity", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1_500_000 },
  BTCUSD: { sector: "crypto", cluster: "crypto", contractSize: 1, tickSize: 0.01, averageDailyVolume: 40_000 },
  MSFT: { sector: "technology", cluster: "us-equity", contractSize: 1, tickSize: 0.01, averageDailyVolume: 25_000_000 },
  DAX: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 150_000 },
  CAC: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 120_000 },
  FTSE: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 120_000 },
  SMI: { sector: "equity-index", cluster: "eu-equity", contractSize: 1, tickSize: 0.5, averageDailyVolume: 60_000 },
};

import type { Command } from "./engine/decide";
import type { EngineState } from "./engine/state";
import type { SymbolId } from "./engine/ids";
import { AppError } from "./errors";
import { log } from "./log";

/** How far, in percent of the last accepted price, a new price may be when its instrument does not say. */
export const DEFAULT_PRICE_BAND_PCT = 10;

/** Prices refused by the band, by where they came from (for the metrics). */
export type PriceRefusals = { countPriceRefused?(source: "market" | "fills"): void };

/**
 * The price band: every price that enters from outside — a tick, a bar, a reported fill — lies within its instrument's
 * `priceBandPct` (default 10 %; null: no band) of the last accepted price of its symbol, or the
 * whole command is refused (422, naming the price) and nothing of it is recorded. A symbol with
 * no price yet takes its first one as it comes. Checked against the working state of the batch,
 * so prices earlier in the same batch (and command) count as accepted.
 */
export function checkPriceBands(command: Command, state: EngineState, refusals: PriceRefusals | null): void {
  if (command.type === "RecordMarket") {
    const last = new Map<SymbolId, number | null>();
    const counters = { tick: 0, book: 0, bar: 0 };
    for (const update of command.updates) {
      const index = counters[update.kind]++;
      if (update.kind === "book") continue;
      const reference = last.has(update.symbol) ? last.get(update.symbol)! : (state.market.get(update.symbol)?.lastPrice ?? null);
      const prices: [string, number][] = update.kind === "tick" ? [[`ticks.${index}.price`, update.price]] : [[`bars.${index}.close`, update.close], [`bars.${index}.high`, update.high], [`bars.${index}.low`, update.low]];
      for (const [path, price] of prices) refuseOutside(state, update.symbol, price, reference, path, "market", refusals);
      last.set(update.symbol, update.kind === "tick" ? update.price : update.close);
    }
  } else if (command.type === "RecordFills" && command.source === "report") {
    // Fills reported from outside; Riskgate's own venue's fills happened and are always booked.
    command.fills.forEach((fill, index) => {
      const mark = state.market.get(fill.symbol)?.lastPrice ?? null;
      refuseOutside(state, fill.symbol, fill.price, mark, `fills.${index}.price`, "fills", refusals);
    });
  }
}

function refuseOutside(state: EngineState, symbol: SymbolId, price: number, reference: number | null, path: string, source: "market" | "fills", refusals: PriceRefusals | null): void {
  if (reference === null || reference <= 0) return;
  const band = state.config.instruments[symbol]?.priceBandPct;
  const pct = band === undefined ? DEFAULT_PRICE_BAND_PCT : band;
  if (pct === null) return;
  const move = (Math.abs(price - reference) / reference) * 100;
  if (move <= pct) return;
  refusals?.countPriceRefused?.(source);
  log.warn({ source, symbol, price, referencePrice: reference, movePct: Number(move.toPrecision(3)), bandPct: pct }, "price refused by the band");
  const message = `${price} is ${Number(move.toPrecision(3))}% from the last accepted ${symbol} price ${reference}; the band is ${pct}%`;
  throw new AppError("validation_failed", `${path}: ${message}`, [{ path, message }]);
}

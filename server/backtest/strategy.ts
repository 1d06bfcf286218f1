/**
 * What a backtest strategy is. A strategy is called once after every bar (every row of the CSV,
 * in time order) and returns the intents it wants to send; each goes through the same door as
 * any client's (`runtime.submitIntent`), and what the risk engine thought of it shows only in
 * the account the next time (positions, equity, trading state).
 *
 *     import type { BacktestStrategy } from "../server/backtest/strategy";
 *
 *     const strategy: BacktestStrategy = {
 *       id: "first-bar-long",
 *       onBar({ index, symbols, history, account }) {
 *         if (index !== 0) return [];
 *         const symbol = symbols[0]!;
 *         const close = history.get(symbol)!.at(-1)!.close;
 *         return [{ symbol, action: "OPEN", side: "BUY", quantity: Math.floor(account.equity / close / 2), referencePrice: close }];
 *       },
 *     };
 *     export default strategy;
 *
 * A module given as `--strategy ./my-strategy.ts` default-exports a `BacktestStrategy`, or a
 * function `(setup: StrategySetup) => BacktestStrategy` that is called once per run (prefer it
 * when the strategy keeps state: two runs in one process then start afresh). The module is
 * loaded with a dynamic `import()`; TypeScript works because the CLI runs under tsx.
 *
 * Rules of the game:
 * - `onBar` is synchronous and must be deterministic: its only randomness is `setup.random`
 *   (seeded by `--seed`), its only clock `context.now`. A run is then reproduced exactly.
 * - Intents (`IntentDraft`, server/strategies.ts): `OPEN`/`SCALE` add exposure, `CLOSE` takes off
 *   up to `quantity` of the position, `FLATTEN` all of it. Quantities are instrument units
 *   (shares for a stock, contracts for an index: contract size 1 unless the instrument says
 *   otherwise). `referencePrice` is what the strategy believes the price is (the price-sanity
 *   guard compares it to the last close); `slPrice`/`tpPrice` leave a protective order at the
 *   venue, triggered inside each later bar from its high and low (the stop first when a bar
 *   reaches both; at the close in a file of closes only); `stats` feed Kelly sizing.
 * - Orders fill at the venue simulator a few tens of milliseconds after the bar's close, at that
 *   close plus slippage, with fees, sometimes in parts; the account seen at the next bar
 *   includes those fills.
 */
import type { SymbolId } from "../engine/ids";
import type { TradingState } from "../engine/types";
import type { Random } from "../sim/random";
import type { IntentDraft } from "../strategies";
import type { Bar } from "./csv";

export type { IntentDraft };

/** What a strategy sees of its account at a bar. Money in USD, rounded to cents. */
export type BacktestAccount = {
  readonly accountId: string;
  readonly balance: number;
  readonly equity: number;
  /** ACTIVE, or why new exposure would be denied (HALTED, REDUCING, LOCKED_OUT); always ACTIVE without risk. */
  readonly tradingState: TradingState;
  /** Open positions: signed quantity (long > 0) and average price. */
  readonly positions: ReadonlyMap<string, { readonly quantity: number; readonly avgPrice: number }>;
  /** Symbols the gate refuses new exposure in right now (a stop-loss locks its symbol until the next daily reset); none without risk. */
  readonly lockedSymbols: ReadonlySet<string>;
};

export type BarContext = {
  /** The simulated clock: the bar's close time (epoch ms). */
  readonly now: number;
  /** The bar's number, from 0. */
  readonly index: number;
  readonly symbols: readonly SymbolId[];
  /** The bars that closed now (a multi-symbol file may lack some symbols on some rows). */
  readonly bars: readonly Bar[];
  /** Every bar so far per symbol, oldest first, the current one last. Read-only: do not keep references across calls. */
  readonly history: ReadonlyMap<SymbolId, readonly Bar[]>;
  readonly account: BacktestAccount;
};

/** Handed to a strategy factory once per run. */
export type StrategySetup = {
  readonly symbols: readonly SymbolId[];
  /** Units of the underlying per contract, per symbol (notional = quantity × contractSize × price). */
  readonly contractSize: ReadonlyMap<SymbolId, number>;
  /** The price tick per symbol: the gate denies an entry's stop, target or limit off it. */
  readonly tickSize: ReadonlyMap<SymbolId, number>;
  /** The strategy's own seeded stream (a fork of `--seed`). */
  readonly random: Random;
};

export interface BacktestStrategy {
  readonly id: string;
  onBar(context: BarContext): readonly IntentDraft[];
}

export type StrategyFactory = (setup: StrategySetup) => BacktestStrategy;

/** Whether a module's default export looks like a strategy (an object with `id` and `onBar`). */
export function isStrategy(value: unknown): value is BacktestStrategy {
  return typeof value === "object" && value !== null && typeof (value as BacktestStrategy).id === "string" && typeof (value as BacktestStrategy).onBar === "function";
}

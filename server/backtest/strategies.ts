import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SymbolId } from "../engine/ids";
import type { BacktestAccount, BarContext, IntentDraft, StrategyFactory, StrategySetup } from "./strategy";
import { isStrategy } from "./strategy";

/**
 * The built-in backtest strategies (the demo's ideas of server/strategies.ts, on bars). Each
 * spreads 95% of equity evenly over the file's symbols when it enters, in whole units. The
 * well-behaved ones do not knock on a symbol the gate has locked, nor enter while the account is
 * not ACTIVE.
 */

const INVESTED = 0.95;

const held = (account: BacktestAccount, symbol: string) => account.positions.get(symbol)?.quantity ?? 0;

function closes(context: BarContext, symbol: SymbolId, n: number): number[] {
  const bars = context.history.get(symbol) ?? [];
  const from = Math.max(0, bars.length - n);
  const out: number[] = [];
  for (let i = from; i < bars.length; i++) out.push(bars[i]!.close);
  return out;
}

/** Whether the symbol has a bar at this row (a multi-symbol file may skip one). */
const tradedNow = (context: BarContext, symbol: SymbolId) => context.bars.some((bar) => bar.symbol === symbol);

/** Whole units worth `share` of equity at `price`. */
function unitsFor(setup: StrategySetup, account: BacktestAccount, symbol: SymbolId, price: number): number {
  const budgetUsd = (account.equity * INVESTED) / setup.symbols.length;
  return Math.max(0, Math.floor(budgetUsd / (price * (setup.contractSize.get(symbol) ?? 1))));
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const stdev = (values: readonly number[]) => {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / values.length);
};

const decimals = (price: number) => (price < 10 ? 5 : price < 1_000 ? 3 : 2);
const round = (price: number) => Number(price.toFixed(decimals(price)));
/** A price on the symbol's tick (the gate denies a stop off it); rounded to a few decimals when the tick is unknown. */
const onTick = (setup: StrategySetup, symbol: SymbolId, price: number) => {
  const tick = setup.tickSize.get(symbol);
  return tick === undefined ? round(price) : Number((Math.round(price / tick) * tick).toPrecision(12));
};

function closeAll(symbol: SymbolId, quantity: number, last: number): IntentDraft {
  return { symbol, action: "CLOSE", side: quantity > 0 ? "SELL" : "BUY", quantity: Math.abs(quantity), referencePrice: last };
}

/** Buy-and-hold: buys each symbol once (again after a denial or a forced exit) and holds it to the end. */
export const buyAndHold: StrategyFactory = (setup) => ({
  id: "buy-and-hold",
  onBar(context) {
    const { account } = context;
    if (account.tradingState !== "ACTIVE") return [];
    const intents: IntentDraft[] = [];
    for (const symbol of setup.symbols) {
      if (held(account, symbol) !== 0 || !tradedNow(context, symbol) || account.lockedSymbols.has(symbol)) continue;
      const last = closes(context, symbol, 1)[0]!;
      const quantity = unitsFor(setup, account, symbol, last);
      if (quantity > 0) intents.push({ symbol, action: "OPEN", side: "BUY", quantity, referencePrice: last });
    }
    return intents;
  },
});

/**
 * SMA crossover, long only: long while the 10-bar mean of closes is above the 30-bar mean,
 * flat otherwise (entries retried while the fast mean stays above).
 */
export function smaCrossover(fast = 10, slow = 30): StrategyFactory {
  return (setup) => ({
    id: "sma-crossover",
    onBar(context) {
      const { account } = context;
      const intents: IntentDraft[] = [];
      for (const symbol of setup.symbols) {
        if (!tradedNow(context, symbol)) continue;
        const series = closes(context, symbol, slow);
        if (series.length < slow) continue;
        const last = series[series.length - 1]!;
        const above = mean(series.slice(-fast)) > mean(series);
        const position = held(account, symbol);
        if (above && position === 0 && account.tradingState === "ACTIVE" && !account.lockedSymbols.has(symbol)) {
          const quantity = unitsFor(setup, account, symbol, last);
          if (quantity > 0) intents.push({ symbol, action: "OPEN", side: "BUY", quantity, referencePrice: last });
        } else if (!above && position > 0) {
          intents.push(closeAll(symbol, position, last));
        }
      }
      return intents;
    },
  });
}

/**
 * Mean reversion: fades a close more than 2 standard deviations from its 20-bar mean (long
 * below, short above), with a disaster stop 3 standard deviations beyond the entry and the
 * strategy's statistics for Kelly; exits when the close is back within half a deviation of the
 * mean, or has crossed to the other side.
 */
export function meanReversion(window = 20, entryZ = 2, exitZ = 0.5): StrategyFactory {
  return (setup) => ({
    id: "mean-reversion",
    onBar(context) {
      const { account } = context;
      const intents: IntentDraft[] = [];
      for (const symbol of setup.symbols) {
        if (!tradedNow(context, symbol)) continue;
        const series = closes(context, symbol, window);
        if (series.length < window) continue;
        const last = series[series.length - 1]!;
        const sd = stdev(series);
        if (!(sd > 0)) continue;
        const z = (last - mean(series)) / sd;
        const position = held(account, symbol);
        if (position === 0 && Math.abs(z) > entryZ && account.tradingState === "ACTIVE" && !account.lockedSymbols.has(symbol)) {
          const side = z < 0 ? "BUY" : "SELL";
          const stop = onTick(setup, symbol, side === "BUY" ? last - 3 * sd : last + 3 * sd);
          const quantity = unitsFor(setup, account, symbol, last);
          if (quantity > 0 && stop > 0) {
            intents.push({ symbol, action: "OPEN", side, quantity, referencePrice: last, slPrice: stop, stats: { winRate: 0.58, winLossRatio: 1.1 } });
          }
        } else if (position !== 0 && (Math.abs(z) < exitZ || Math.sign(z) === Math.sign(position))) {
          intents.push(closeAll(symbol, position, last));
        }
      }
      return intents;
    },
  });
}

/**
 * Deliberately reckless, to show the gate at work: on about half the bars a random entry of one
 * to three times equity (one in ten, six times), now and then on a made-up price (7% off) or with
 * statistics that have no edge, with a tight stop 0.5% away; bursts of twelve intents at once;
 * closes at random. It mostly (not always) stays quiet while its account is not ACTIVE.
 */
export const reckless: StrategyFactory = (setup) => ({
  id: "reckless",
  onBar(context) {
    const { random } = setup;
    const { account } = context;
    const intents: IntentDraft[] = [];
    if (account.tradingState !== "ACTIVE" && random.next() < 0.8) return intents;
    const burst = random.next() < 0.05 ? 12 : 1;
    for (let k = 0; k < burst; k++) {
      if (burst === 1 && random.next() < 0.5) continue;
      let symbol = setup.symbols[Math.floor(random.next() * setup.symbols.length)]!;
      // It mostly moves on from a symbol the gate locked, but not always.
      const open = setup.symbols.filter((s) => !account.lockedSymbols.has(s));
      if (account.lockedSymbols.has(symbol) && open.length > 0 && random.next() < 0.8) symbol = open[Math.floor(random.next() * open.length)]!;
      if (!tradedNow(context, symbol)) continue;
      const last = closes(context, symbol, 1)[0]!;
      const position = held(account, symbol);
      if (position !== 0 && random.next() < 0.3) {
        intents.push(closeAll(symbol, position, last));
        continue;
      }
      const side = random.next() < 0.5 ? "BUY" : "SELL";
      const sign = side === "BUY" ? 1 : -1;
      const roll = random.next();
      const leverage = roll < 0.1 ? 6 : 1 + Math.floor(random.next() * 3);
      const quantity = Math.floor((account.equity * leverage) / (last * (setup.contractSize.get(symbol) ?? 1)));
      if (quantity <= 0) continue;
      const claimed = roll > 0.93 ? last * (1 + sign * 0.07) : last;
      intents.push({
        symbol,
        action: "OPEN",
        side,
        quantity,
        referencePrice: round(claimed),
        slPrice: onTick(setup, symbol, last * (1 - sign * 0.005)),
        stats: roll > 0.85 && roll <= 0.93 ? { winRate: 0.35, winLossRatio: 1 } : { winRate: 0.5, winLossRatio: 1.4 },
      });
    }
    return intents;
  },
});

export const builtinStrategies: Readonly<Record<string, StrategyFactory>> = {
  "buy-and-hold": buyAndHold,
  "sma-crossover": smaCrossover(),
  "mean-reversion": meanReversion(),
  reckless,
};

export class StrategyError extends Error {}

/**
 * The strategy `spec` names: a built-in's name, or the path of a module (`./my-strategy.ts`)
 * whose default export is a strategy or a factory of one.
 */
export async function resolveStrategy(spec: string): Promise<StrategyFactory> {
  const builtin = builtinStrategies[spec];
  if (builtin) return builtin;
  const looksLikePath = /[/\\]/.test(spec) || /\.(ts|mts|js|mjs)$/.test(spec);
  if (!looksLikePath) throw new StrategyError(`--strategy: no built-in strategy ${spec} (built-in: ${Object.keys(builtinStrategies).join(", ")}; or the path of a module)`);
  const file = path.resolve(spec);
  if (!fs.existsSync(file)) throw new StrategyError(`--strategy: no such file: ${spec}`);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new StrategyError(`--strategy: ${spec} does not load: ${(error as Error).message}`);
  }
  const exported = loaded.default;
  if (isStrategy(exported)) return () => exported;
  if (typeof exported === "function") {
    return (setup) => {
      const made: unknown = (exported as StrategyFactory)(setup);
      if (!isStrategy(made)) throw new StrategyError(`--strategy: the function ${spec} exports did not return a strategy ({ id, onBar })`);
      return made;
    };
  }
  throw new StrategyError(`--strategy: ${spec} must default-export a BacktestStrategy ({ id, onBar }) or a function returning one`);
}

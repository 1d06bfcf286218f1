import type { AccountView } from "./engine/views";
import { defaultInstruments } from "./instruments";
import type { Random } from "./sim/random";

/**
 * Simple seeded strategies for the demo and for simulation runs. A strategy sees, at its turn,
 * the recent prices of its symbols and its account, and returns the intents it wants to send;
 * it learns what the risk engine thought of them only from its account the next turn.
 */
export type IntentDraft = {
  readonly symbol: string;
  readonly action: "OPEN" | "CLOSE" | "SCALE" | "FLATTEN";
  readonly side: "BUY" | "SELL";
  readonly quantity?: number;
  readonly slPrice?: number;
  readonly tpPrice?: number;
  readonly referencePrice?: number;
  readonly stats?: { readonly winRate: number; readonly winLossRatio: number };
};

export type StrategyTurn = {
  readonly now: number;
  /** Recent prices per symbol, oldest first (one a market step). */
  readonly prices: ReadonlyMap<string, readonly number[]>;
  readonly account: AccountView;
};

export interface Strategy {
  readonly strategyId: string;
  readonly symbols: readonly string[];
  turn(turn: StrategyTurn): IntentDraft[];
}

const position = (account: AccountView, symbol: string) => account.positions.find((p) => p.symbol === symbol)?.quantity ?? 0;

/** How far the price has gone against the position since its average entry (0 when flat or in profit). */
function adverse(account: AccountView, symbol: string, last: number): number {
  const held = account.positions.find((p) => p.symbol === symbol);
  if (!held) return 0;
  return Math.max(0, (held.avgPrice - last) * Math.sign(held.quantity));
}

/** A well-behaved strategy does not knock on a symbol the gate has locked for it. */
const locked = (account: AccountView, symbol: string, now: number) =>
  account.vetoes.some((veto) => veto.symbol === symbol && (veto.expiresAt === null || veto.expiresAt > now));

function stdev(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

/** Log returns of the last `n` prices. */
function returns(prices: readonly number[], n: number): number[] {
  const recent = prices.slice(-n - 1);
  return recent.slice(1).map((price, i) => Math.log(price / recent[i]!));
}

/** An exit of the whole position at the last price: a SELL closes a long, a BUY a short. */
function closeAll(symbol: string, held: number, last: number): IntentDraft {
  return { symbol, action: "CLOSE", side: held > 0 ? "SELL" : "BUY", quantity: Math.abs(held), referencePrice: last };
}

/** An entry at the last price with its stop, target and the strategy's statistics. */
function enter(symbol: string, side: "BUY" | "SELL", quantity: number, last: number, slPrice: number, tpPrice: number, stats: IntentDraft["stats"]): IntentDraft {
  return { symbol, action: "OPEN", side, quantity, referencePrice: last, slPrice: onTick(symbol, slPrice), tpPrice: onTick(symbol, tpPrice), ...(stats ? { stats } : {}) };
}

const decimals = (price: number) => (price < 10 ? 5 : price < 1_000 ? 3 : 2);
const round = (price: number) => Number(price.toFixed(decimals(price)));
/** A price on the symbol's tick (the gate denies a stop or target off it); a few decimals for a symbol it does not ship. */
const onTick = (symbol: string, price: number) => {
  const tick = defaultInstruments[symbol]?.tickSize;
  return tick === undefined ? round(price) : Number((Math.round(price / tick) * tick).toPrecision(12));
};

/**
 * Momentum: when the last `lookback` steps moved more than `threshold` standard deviations,
 * enter in their direction; exit when the move turns or the price has gone two σ-bands against
 * the entry. The order carries a disaster stop six
 * σ-bands away (σ-band: the move the lookback's volatility makes over the lookback), which the
 * risk engine sizes with and the venue holds, and a target three bands away.
 */
export function momentum(symbols: readonly string[], sizes: Readonly<Record<string, number>>, lookback = 20, threshold = 1.2): Strategy {
  return {
    strategyId: "momentum",
    symbols,
    turn: ({ now, prices, account }) => {
      const intents: IntentDraft[] = [];
      for (const symbol of symbols) {
        const series = prices.get(symbol) ?? [];
        const flat = position(account, symbol) === 0;
        if (series.length <= lookback || (flat && (locked(account, symbol, now) || account.tradingState !== "ACTIVE"))) continue;
        const r = returns(series, lookback);
        const sigma = stdev(r) || 1e-6;
        const move = r.reduce((a, b) => a + b, 0) / (sigma * Math.sqrt(r.length));
        const last = series[series.length - 1]!;
        const held = position(account, symbol);
        const band = last * sigma * Math.sqrt(lookback);
        if (held === 0 && Math.abs(move) > threshold) {
          const side = move > 0 ? "BUY" : "SELL";
          const sign = side === "BUY" ? 1 : -1;
          intents.push(enter(symbol, side, sizes[symbol] ?? 1, last, last - sign * 6 * band, last + sign * 3 * band, { winRate: 0.52, winLossRatio: 1.6 }));
        } else if (held !== 0 && ((Math.sign(move) === -Math.sign(held) && Math.abs(move) > threshold / 2) || adverse(account, symbol, last) > 2 * band)) {
          intents.push(closeAll(symbol, held, last));
        }
      }
      return intents;
    },
  };
}

/**
 * Mean reversion: fade a price `entryZ` standard deviations from its recent mean; take profit
 * at the mean, cut the trade itself when the price has gone one σ-band (the move the window's
 * return volatility makes over the window) against its entry, with a disaster stop at the venue
 * two bands away.
 */
export function meanReversion(symbols: readonly string[], sizes: Readonly<Record<string, number>>, window = 30, entryZ = 1.8): Strategy {
  return {
    strategyId: "mean-reversion",
    symbols,
    turn: ({ now, prices, account }) => {
      const intents: IntentDraft[] = [];
      for (const symbol of symbols) {
        const series = (prices.get(symbol) ?? []).slice(-window);
        const flat = position(account, symbol) === 0;
        if (series.length < window || (flat && (locked(account, symbol, now) || account.tradingState !== "ACTIVE"))) continue;
        const mean = series.reduce((a, b) => a + b, 0) / series.length;
        const sd = stdev(series) || 1e-9;
        const last = series[series.length - 1]!;
        const band = last * (stdev(returns(series, window - 1)) || 1e-6) * Math.sqrt(window);
        const z = (last - mean) / sd;
        const held = position(account, symbol);
        if (held === 0 && Math.abs(z) > entryZ) {
          const side = z > 0 ? "SELL" : "BUY";
          const sign = side === "BUY" ? 1 : -1;
          intents.push(enter(symbol, side, sizes[symbol] ?? 1, last, last - sign * 2 * band, mean, { winRate: 0.58, winLossRatio: 1.1 }));
        } else if (held !== 0 && (Math.abs(z) < 0.3 || adverse(account, symbol, last) > band)) {
          intents.push(closeAll(symbol, held, last));
        }
      }
      return intents;
    },
  };
}

/**
 * A deliberately reckless strategy, to show the gate at work: random entries, now and then far
 * too large, on stale or made-up prices, with no edge, in bursts; tight stops that get hit. It
 * starts as a merely careless trader for `calmMs` (one entry a turn at most, normal sizes, wider
 * stops, an odd made-up price or edge-less entry) and turns reckless after: a newcomer first sees
 * a desk at work, then the gate stopping a trader who lost his head.
 */
export function reckless(symbols: readonly string[], sizes: Readonly<Record<string, number>>, random: Random, calmMs = 0): Strategy {
  let startedAt: number | null = null;
  return {
    strategyId: "reckless",
    symbols,
    turn: ({ now, prices, account }) => {
      const intents: IntentDraft[] = [];
      startedAt ??= now;
      const calm = now - startedAt < calmMs;
      // Even a reckless strategy hears "halted" now and then: it only tries once in a while.
      if (account.tradingState !== "ACTIVE" && random.next() < 0.8) return intents;
      if (calm && random.next() < 0.5) return intents;
      const burst = !calm && random.next() < 0.08 ? 12 : 1;
      for (let k = 0; k < burst; k++) {
        let symbol = symbols[Math.floor(random.next() * symbols.length)]!;
        // It mostly moves on from a symbol the gate locked, but not always.
        const open = symbols.filter((s) => !locked(account, s, now));
        if (locked(account, symbol, now) && open.length > 0 && random.next() < 0.8) symbol = open[Math.floor(random.next() * open.length)]!;
        const series = prices.get(symbol) ?? [];
        const last = series[series.length - 1];
        if (last === undefined) continue;
        const held = position(account, symbol);
        if (held !== 0 && random.next() < 0.3) {
          intents.push(closeAll(symbol, held, last));
          continue;
        }
        const side = random.next() < 0.5 ? "BUY" : "SELL";
        const sign = side === "BUY" ? 1 : -1;
        const roll = random.next();
        const size = (sizes[symbol] ?? 1) * (!calm && roll < 0.1 ? 60 : 1 + Math.floor(random.next() * (calm ? 2 : 3)));
        const claimed = roll > 0.93 ? last * (1 + sign * 0.07) : last; // a price it made up
        const stopPct = calm ? 0.004 : 0.0015;
        intents.push({
          symbol,
          action: "OPEN",
          side,
          quantity: size,
          referencePrice: round(claimed),
          slPrice: onTick(symbol, last * (1 - sign * stopPct)),
          stats: roll > 0.85 && roll <= 0.93 ? { winRate: 0.35, winLossRatio: 1 } : { winRate: 0.5, winLossRatio: 1.4 },
        });
      }
      return intents;
    },
  };
}

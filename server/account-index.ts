import type { EngineEvent } from "./engine/events";
import { streamOf } from "./engine/events";
import type { AccountId, SymbolId } from "./engine/ids";
import type { EngineState } from "./engine/state";
import { barHolders, holdersOf } from "./engine/state";

/**
 * The accounts a commit may have changed: its own events' accounts, every account for the firm's
 * and the engine's events (a halt, a configuration, a new day), and, for a price, the holders of
 * its symbol (for a bar, which also moves the volatility clusters, the holders of any symbol
 * outside a cluster, as the fold re-marks them too). A tick's holders are kept as the symbol, not
 * listed: a reader asks `has` (a look at one account's positions) or walks them (`size` is an
 * upper bound), so a commit of ticks costs its ticks, not their thousands of holders, until
 * somebody needs them all.
 */
export type Touched = {
  /** Whether the commit may have changed `accountId`. */
  has(accountId: AccountId): boolean;
  /** At most this many accounts (a walk may find fewer: holders of two symbols count once). */
  readonly size: number;
  /** The accounts named by the commit's own events (and a bar's, and every account for a firm event). */
  readonly accounts: ReadonlySet<AccountId>;
  /** Symbols ticked: their holders are touched too. */
  readonly symbols: readonly SymbolId[];
  [Symbol.iterator](): Iterator<AccountId>;
};

export function touchedBy(events: readonly EngineEvent[], state: EngineState): Touched {
  const accounts = new Set<AccountId>();
  const symbols: SymbolId[] = [];
  for (const event of events) {
    const stream = streamOf(event);
    if (stream === "engine" || stream === "firm") return touchedAll(state);
    if (event.type === "market.tick") {
      if (!symbols.includes(event.symbol)) symbols.push(event.symbol);
    } else if (event.type === "market.bar") {
      for (const accountId of barHolders(state, event.symbol)) accounts.add(accountId);
    } else if (event.type !== "market.book") {
      accounts.add(stream as AccountId);
    }
  }
  let size = accounts.size;
  for (const symbol of symbols) size += holdersOf(state, symbol).size;
  return {
    accounts,
    symbols,
    size,
    has(accountId) {
      if (accounts.has(accountId)) return true;
      if (symbols.length === 0) return false;
      const account = state.accounts.get(accountId);
      return account !== undefined && symbols.some((symbol) => account.positions.has(symbol));
    },
    *[Symbol.iterator]() {
      yield* accounts;
      if (symbols.length === 0) return;
      const seen = new Set<AccountId>(accounts);
      for (const symbol of symbols) {
        for (const accountId of holdersOf(state, symbol).unorderedKeys()) {
          if (seen.has(accountId)) continue;
          seen.add(accountId);
          yield accountId;
        }
      }
    },
  };
}

function touchedAll(state: EngineState): Touched {
  const accounts = new Set(state.accounts.unorderedKeys());
  return { accounts, symbols: [], size: accounts.size, has: (accountId) => accounts.has(accountId), [Symbol.iterator]: () => accounts[Symbol.iterator]() };
}

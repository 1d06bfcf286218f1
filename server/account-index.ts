import type { EngineEvent } from "./engine/events";
import { streamOf } from "./engine/events";
import type { AccountId, SymbolId } from "./engine/ids";
import type { EngineState } from "./engine/state";

/**
 * Which accounts a commit touched, found without looking at every account: the holders of each
 * symbol, kept up to date from the fills (the only events that change positions). A commit's
 * work (equity history, the stream's views) then follows what it touched, not the size of the
 * book.
 */
export class AccountIndex {
  /** The symbols each account holds a position in. */
  private readonly heldBy = new Map<AccountId, ReadonlySet<SymbolId>>();
  /** The accounts holding a position in each symbol. */
  private readonly holders = new Map<SymbolId, Set<AccountId>>();

  /** Indexes every account of `state` from scratch (at start, after a snapshot). */
  rebuild(state: EngineState): void {
    this.heldBy.clear();
    this.holders.clear();
    for (const accountId of state.accounts.keys()) this.reindex(accountId, state);
  }

  /** Folds `events`' position changes in; `state` is the state after them. */
  observe(events: readonly EngineEvent[], state: EngineState): void {
    for (const event of events) {
      if (event.type === "execution.filled") this.reindex(event.accountId, state);
      else if (event.type === "account.opened") this.reindex(event.account.accountId, state);
    }
  }

  /** The accounts holding `symbol`. */
  holdersOf(symbol: SymbolId): ReadonlySet<AccountId> {
    return this.holders.get(symbol) ?? EMPTY;
  }

  /**
   * The accounts whose state or figures `events` may have changed: every account for the firm's
   * and the engine's events (a halt, a configuration, a new day); an account's own events; for
   * a price, the holders of its symbol (and, for a bar, which also moves the volatility
   * clusters, the holders of any symbol outside a cluster, as the fold re-marks them too).
   */
  touchedBy(events: readonly EngineEvent[], state: EngineState): ReadonlySet<AccountId> {
    const touched = new Set<AccountId>();
    for (const event of events) {
      const stream = streamOf(event);
      if (stream === "engine" || stream === "firm") return new Set(state.accounts.keys());
      if (event.type === "market.tick") {
        for (const accountId of this.holdersOf(event.symbol)) touched.add(accountId);
      } else if (event.type === "market.bar") {
        for (const accountId of this.holdersOf(event.symbol)) touched.add(accountId);
        for (const [symbol, holders] of this.holders) {
          if (state.config.instruments[symbol]?.cluster) continue;
          for (const accountId of holders) touched.add(accountId);
        }
      } else if (event.type !== "market.book") {
        touched.add(stream as AccountId);
      }
    }
    return touched;
  }

  private reindex(accountId: AccountId, state: EngineState): void {
    const before = this.heldBy.get(accountId) ?? EMPTY_SYMBOLS;
    const now = new Set(state.accounts.get(accountId)?.positions.keys() ?? []);
    for (const symbol of before) if (!now.has(symbol)) this.holders.get(symbol)?.delete(accountId);
    for (const symbol of now) {
      if (before.has(symbol)) continue;
      let holders = this.holders.get(symbol);
      if (!holders) this.holders.set(symbol, (holders = new Set()));
      holders.add(accountId);
    }
    if (now.size > 0) this.heldBy.set(accountId, now);
    else this.heldBy.delete(accountId);
  }
}

const EMPTY: ReadonlySet<AccountId> = new Set();
const EMPTY_SYMBOLS: ReadonlySet<SymbolId> = new Set();

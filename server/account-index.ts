import type { EngineEvent } from "./engine/events";
import { streamOf } from "./engine/events";
import type { AccountId } from "./engine/ids";
import type { EngineState } from "./engine/state";
import { barHolders, holderIds } from "./engine/state";

/**
 * The accounts whose state or figures `events` may have changed, found from the fold's index
 * (`state` is the state after them) without looking at every account: every account for the
 * firm's and the engine's events (a halt, a configuration, a new day); an account's own events;
 * for a price, the holders of its symbol (and, for a bar, which also moves the volatility
 * clusters, the holders of any symbol outside a cluster, as the fold re-marks them too). A
 * commit's work (equity history, the stream) then follows what it touched, not the book.
 */
export function touchedBy(events: readonly EngineEvent[], state: EngineState): ReadonlySet<AccountId> {
  const touched = new Set<AccountId>();
  for (const event of events) {
    const stream = streamOf(event);
    if (stream === "engine" || stream === "firm") return new Set(state.accounts.unorderedKeys());
    if (event.type === "market.tick") {
      for (const accountId of holderIds(state, event.symbol)) touched.add(accountId);
    } else if (event.type === "market.bar") {
      for (const accountId of barHolders(state, event.symbol)) touched.add(accountId);
    } else if (event.type !== "market.book") {
      touched.add(stream as AccountId);
    }
  }
  return touched;
}

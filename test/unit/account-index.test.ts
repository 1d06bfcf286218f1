import { describe, expect, it } from "vitest";
import { touchedBy } from "@/server/account-index";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve, holdersOf, indexOf } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import { EURUSD, configured, given, long } from "./given";

/** Which accounts a commit touched, from an index of holders rather than a look at every account. */

const GBPUSD = SymbolId.parse("GBPUSD");
const ids = Array.from({ length: 50 }, (_, n) => AccountId.parse(`acc-${n}`));
const openedAll: EngineEvent[] = ids.map((id) => ({
  type: "account.opened",
  at: 1_000,
  by: "system",
  account: AccountSpec.parse({ accountId: id, name: id, presetId: "p", initialBalanceUsd: 100_000 }),
}));
const fill = (accountId: AccountId, symbol: SymbolId, side: "BUY" | "SELL"): EngineEvent => ({ ...long, accountId, symbol, side } as EngineEvent);
const tick = (symbol: SymbolId): EngineEvent => ({ type: "market.tick", at: 3_000, symbol, price: 1.1 });

/** The fold's index read through the functions the runtime uses. */
function indexed(...events: EngineEvent[]) {
  const state = events.reduce(evolve, given(configured({ instruments: { GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 } } })));
  const index = { touchedBy: (commit: EngineEvent[], after: EngineState) => touchedBy(commit, after), holdersOf: (symbol: SymbolId) => holdersOf(state, symbol) };
  return { index, state };
}

describe("the account index", () => {
  it("touches only the holders of a ticked symbol, not the book", () => {
    const { index, state } = indexed(...openedAll, fill(ids[3]!, EURUSD, "BUY"), fill(ids[7]!, EURUSD, "BUY"), fill(ids[9]!, GBPUSD, "BUY"));
    expect([...index.touchedBy([tick(EURUSD)], state)].sort()).toEqual([ids[3], ids[7]]);
    expect([...index.touchedBy([tick(GBPUSD)], state)]).toEqual([ids[9]]);
    expect(index.touchedBy([tick(SymbolId.parse("XAUUSD"))], state).size).toBe(0);
  });

  it("forgets a holder once its position is closed", () => {
    const { index, state } = indexed(...openedAll, fill(ids[3]!, EURUSD, "BUY"), fill(ids[3]!, EURUSD, "SELL"));
    expect(index.holdersOf(EURUSD).size).toBe(0);
    expect(index.touchedBy([tick(EURUSD)], state).size).toBe(0);
  });

  it("touches an account's own events, and every account for the engine's and the firm's", () => {
    const { index, state } = indexed(...openedAll);
    const trip: EngineEvent = { type: "breaker.tripped", at: 2_000, accountId: ids[5]!, breaker: "manual", reason: "r", by: "rm" };
    expect([...index.touchedBy([trip], state)]).toEqual([ids[5]]);
    const halt: EngineEvent = { type: "firm.halted", at: 2_000, reason: "r", by: "rm" };
    expect(index.touchedBy([halt], state).size).toBe(ids.length);
  });

  it("is rebuilt from a state to the same holders", () => {
    const { index, state } = indexed(...openedAll, fill(ids[1]!, EURUSD, "BUY"), fill(ids[2]!, GBPUSD, "SELL"));
    const rebuilt = indexOf(state);
    for (const symbol of [EURUSD, GBPUSD]) expect([...rebuilt.holders.get(symbol)!.keys()]).toEqual([...index.holdersOf(symbol).keys()]);
  });
});

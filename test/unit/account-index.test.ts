import { describe, expect, it } from "vitest";
import { AccountIndex } from "@/server/account-index";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, SymbolId } from "@/server/engine/ids";
import { evolve } from "@/server/engine/state";
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

function indexed(...events: EngineEvent[]) {
  const index = new AccountIndex();
  let state = given(configured({ instruments: { GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 } } }));
  for (const event of events) {
    state = evolve(state, event);
    index.observe([event], state);
  }
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
    const rebuilt = new AccountIndex();
    rebuilt.rebuild(state);
    for (const symbol of [EURUSD, GBPUSD]) expect([...rebuilt.holdersOf(symbol)]).toEqual([...index.holdersOf(symbol)]);
  });
});

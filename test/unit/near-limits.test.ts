import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RulesPatch } from "@/server/engine/config";
import { EngineConfig } from "@/server/engine/config";
import { atALimit, lossChecksFolded } from "@/server/engine/breakers";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, PresetId, SymbolId } from "@/server/engine/ids";
import { certificates, nearLimits } from "@/server/engine/near-limits";
import type { EngineState } from "@/server/engine/state";
import { configOf, equityOf, evolve, holdersOfAll, initialState } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";

// Positions quoted in USD, in JPY (converted at USDJPY, which is itself held), in EUR (at EURUSD)
// and in GBP (at GBPUSD when it has a price, else at nothing), in USD and in EUR accounts (GBP
// through USD, two prices in one rate): every shape of valuation.
const instruments = {
  EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1e6, quoteCurrency: "USD" },
  GBPUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1e6, quoteCurrency: "USD" },
  USDJPY: { sector: "fx", contractSize: 100_000, tickSize: 0.001, averageDailyVolume: 1e6, quoteCurrency: "JPY" },
  XAUUSD: { sector: "metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 1e6, quoteCurrency: "USD" },
  DAX: { sector: "index", contractSize: 25, tickSize: 0.5, averageDailyVolume: 1e6, quoteCurrency: "EUR" },
  FTSE: { sector: "index", contractSize: 10, tickSize: 0.5, averageDailyVolume: 1e6, quoteCurrency: "GBP" },
};
const start: Record<string, number> = { EURUSD: 1.1, GBPUSD: 1.27, USDJPY: 150, XAUUSD: 2_000, DAX: 18_000, FTSE: 8_000 };
const symbols = Object.keys(instruments).map((symbol) => SymbolId.parse(symbol));
const accounts = ["n-1", "n-2", "n-3", "n-4", "n-5", "n-6"].map((id) => AccountId.parse(id));
const config = EngineConfig.parse({ instruments, breakers: { dailyDrawdown: { maxPct: 3 } } });
const trailing = { accountRules: { maxLossMode: "trailing_intraday" } } as RulesPatch;

const move = fc.double({ min: -0.03, max: 0.03, noNaN: true });
const step = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fill" as const), account: fc.constantFrom(...accounts), symbol: fc.constantFrom(...symbols), buy: fc.boolean(), lots: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("tick" as const), moves: fc.array(fc.tuple(fc.constantFrom(...symbols), move), { minLength: 1, maxLength: 3 }) }) },
  // A bar: it moves the last price too, and its holders are all checked (no bands); a later tick must see the move.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bar" as const), symbol: fc.constantFrom(...symbols), change: move }) },
  // A tick decided on an earlier state (a dry-run, a fork) and dropped: the live book goes on.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fork" as const), back: fc.integer({ min: 1, max: 30 }), symbol: fc.constantFrom(...symbols), change: move }) },
);

/** Every account at a limit or past its high-water mark among `accountIds`, as the exact checks see it. */
function exactlyNear(state: EngineState, accountIds: Iterable<AccountId>): AccountId[] {
  return [...accountIds].filter((accountId) => {
    const account = state.accounts.get(accountId)!;
    const pastMark = configOf(state, account).accountRules.maxLossMode === "trailing_intraday" && equityOf(account, state) > account.highWater;
    return atALimit(state, accountId) || pastMark;
  });
}

/** A book under the test's configuration: `apply` decides a command on it and folds the events (a refusal throws). */
function newBook(): { readonly state: EngineState; apply: (command: Parameters<typeof decide>[0]) => void } {
  let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
  return {
    get state() {
      return state;
    },
    apply(command) {
      const result = decide(command, state);
      if (!result.ok) throw new Error(`${command.type} refused: ${JSON.stringify(result.rejection)}`);
      state = result.events.reduce(evolve, state);
    },
  };
}

describe("the holders near a limit", () => {
  it("include every holder of a repriced symbol at a loss limit or past its mark, and the tick decides as an exact check of all holders would", () => {
    let losses = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 30, maxLength: 150 }), fc.boolean(), (steps, gbpPriced) => {
        let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
        let at = Date.UTC(2026, 0, 6, 9);
        accounts.forEach((accountId, n) => {
          // n-5 and n-6 keep their books in euros: a GBP-quoted position converts through USD.
          const currency = n >= 4 ? "EUR" : "USD";
          const opened = decide({ type: "OpenAccount", at, by: "t", account: AccountSpec.parse({ accountId, name: accountId, presetId: "p", initialBalanceUsd: 100_000, currency }) }, state);
          if (!opened.ok) throw new Error("not opened");
          state = opened.events.reduce(evolve, state);
          if (n % 2 === 1) {
            const activated = decide({ type: "ActivatePreset", at, accountId, presetId: PresetId.parse("trailing"), version: 1, rules: trailing, reason: "why", by: "t" }, state);
            if (!activated.ok) throw new Error("not activated");
            state = activated.events.reduce(evolve, state);
          }
        });
        const prices = new Map(symbols.map((symbol) => [symbol, start[symbol]!]));
        const priced = symbols.filter((symbol) => gbpPriced || symbol !== "GBPUSD");
        const first = decide({ type: "RecordMarket", at, updates: priced.map((symbol) => ({ kind: "tick" as const, symbol, price: prices.get(symbol)! })) }, state);
        if (!first.ok) throw new Error("no prices");
        state = first.events.reduce(evolve, state);
        /** Decides `updates` on `on` and compares with exact checks of every holder; answers the state after. */
        const tickAndCompare = (on: EngineState, updates: { kind: "tick"; symbol: SymbolId; price: number }[]): EngineState | null => {
          const result = decide({ type: "RecordMarket", at, updates }, on);
          if (!result.ok) return null;
          // The same ticks, folded, then the loss checks of every holder: what the engine did before the filter.
          const repriced = updates.map((update) => update.symbol);
          const ticks: EngineEvent[] = result.events.filter((event) => event.type === "market.tick");
          const folded = ticks.reduce(evolve, on);
          const holders = [...holdersOfAll(folded, repriced)];
          const near = nearLimits(folded, repriced);
          for (const accountId of exactlyNear(folded, holders)) expect(near, `${accountId} is at a limit or past its mark`).toContain(accountId);
          const exact = lossChecksFolded(folded, holders, at, "by_id");
          if (exact.events.length > 0) losses++;
          expect(result.events.slice(ticks.length)).toEqual(exact.events);
          return result.events.reduce(evolve, on);
        };
        const history: EngineState[] = [];
        for (const s of steps) {
          at += 1_000;
          history.push(state);
          if (s.kind === "fork") {
            const earlier = history[Math.max(0, history.length - s.back)]!;
            const price = earlier.market.get(s.symbol)?.lastPrice;
            if (price != null) tickAndCompare(earlier, [{ kind: "tick", symbol: s.symbol, price: Number((price * (1 + s.change)).toFixed(5)) }]);
            continue;
          }
          if (s.kind === "bar") {
            const close = Number((prices.get(s.symbol)! * (1 + s.change)).toFixed(5));
            prices.set(s.symbol, close);
            const bar = { kind: "bar" as const, symbol: s.symbol, closedAt: at, open: close, high: close, low: close, close, volume: 1 };
            const result = decide({ type: "RecordMarket", at, updates: [bar] }, state);
            if (result.ok) state = result.events.reduce(evolve, state);
            continue;
          }
          if (s.kind === "fill") {
            const fill = { accountId: s.account, intentId: null, symbol: s.symbol, side: s.buy ? "BUY" : "SELL", quantity: s.lots / 10, price: prices.get(s.symbol)!, feeUsd: 0, trigger: "order" } as const;
            const result = decide({ type: "RecordFills", at, fills: [fill] }, state);
            if (result.ok) state = result.events.reduce(evolve, state);
            continue;
          }
          const updates = [...new Map(s.moves).entries()].map(([symbol, change]) => {
            const price = Number((prices.get(symbol)! * (1 + change)).toFixed(5));
            prices.set(symbol, price);
            return { kind: "tick" as const, symbol, price };
          });
          state = tickAndCompare(state, updates) ?? state;
        }
      }),
      { numRuns: 200 },
    );
    // The streams reach limits often enough for the comparison to mean something.
    expect(losses).toBeGreaterThan(10);
  });

  it("leave out a holder whose prices stay well inside its margin, and take it back when a price leaves its band", () => {
    let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
    const accountId = accounts[0]!;
    const opened = decide({ type: "OpenAccount", at: 1, by: "t", account: AccountSpec.parse({ accountId, name: "n", presetId: "p", initialBalanceUsd: 100_000 }) }, state);
    if (!opened.ok) throw new Error("not opened");
    state = opened.events.reduce(evolve, state);
    /** Ticks `symbol`, first asking whether the account is near a limit at the tick's price. */
    const tick = (symbol: string, price: number, at: number): readonly AccountId[] => {
      const id = SymbolId.parse(symbol);
      const repriced = { ...state, market: new Map(state.market).set(id, { ...state.market.get(id)!, lastPrice: price, lastPriceAt: at }) };
      const near = nearLimits(repriced, [id]);
      const result = decide({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol: id, price }] }, state);
      if (!result.ok) throw new Error("no tick");
      state = result.events.reduce(evolve, state);
      return near;
    };
    const first = decide({ type: "RecordMarket", at: 2, updates: [{ kind: "tick", symbol: SymbolId.parse("XAUUSD"), price: 2_000 }] }, state);
    if (!first.ok) throw new Error("no tick");
    state = first.events.reduce(evolve, state);
    const filled = decide({ type: "RecordFills", at: 3, fills: [{ accountId, intentId: null, symbol: SymbolId.parse("XAUUSD"), side: "BUY", quantity: 1, price: 2_000, feeUsd: 0, trigger: "order" }] }, state);
    if (!filled.ok) throw new Error("no fill");
    state = filled.events.reduce(evolve, state);

    // An account whose state changed (the fill) is looked at once.
    expect(nearLimits(state, [SymbolId.parse("XAUUSD")])).toEqual([accountId]);
    // Its margin: 3,000 USD to the daily drawdown breaker
    // (3% of 100,000); its band: half of it over 100 oz at 2,000, ±0.75% (1,985 to 2,015).
    expect(tick("XAUUSD", 2_010, 4)).toEqual([]);
    expect(tick("XAUUSD", 1_990, 5)).toEqual([]);
    expect(state.accounts.get(accountId)!.breakers.daily_drawdown.tripped).toBe(false);
    // Out of the band: looked at (1,000 USD down, no limit yet), and a new band from there.
    expect(tick("XAUUSD", 1_984, 6)).toEqual([accountId]);
    expect(state.accounts.get(accountId)!.breakers.daily_drawdown.tripped).toBe(false);
    expect(tick("XAUUSD", 1_985, 7)).toEqual([]);
    // 3,100 USD down: the breaker trips at that tick.
    expect(tick("XAUUSD", 1_969, 8)).toEqual([accountId]);
    expect(state.accounts.get(accountId)!.breakers.daily_drawdown.tripped).toBe(true);
  });
  it("leave an account past its mark through a pair it only reads alone on that pair's ticks, and look at it on the next tick of a symbol it holds", () => {
    const book = newBook();
    const { apply } = book;
    const accountId = accounts[1]!;
    apply({ type: "OpenAccount", at: 1, by: "t", account: AccountSpec.parse({ accountId, name: "n", presetId: "p", initialBalanceUsd: 100_000 }) });
    apply({ type: "ActivatePreset", at: 1, accountId, presetId: PresetId.parse("trailing"), version: 1, rules: trailing, reason: "why", by: "t" });
    const tick = (symbol: string, price: number, at: number) => apply({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol: SymbolId.parse(symbol), price }] });
    tick("EURUSD", 1.1, 2);
    tick("DAX", 18_000, 2);
    // Long DAX (quoted in EUR): a USD account's equity reads DAX and EURUSD, and it holds only DAX.
    apply({ type: "RecordFills", at: 3, fills: [{ accountId, intentId: null, symbol: SymbolId.parse("DAX"), side: "BUY", quantity: 1, price: 18_000, feeUsd: 0, trigger: "order" }] });
    tick("DAX", 18_100, 4); // 2,500 EUR up: the mark follows
    // The euro rises: equity passes the high-water mark, which only a tick of DAX moves.
    tick("EURUSD", 1.2, 5);
    const markBefore = book.state.accounts.get(accountId)!.highWater;
    expect(equityOf(book.state.accounts.get(accountId)!, book.state)).toBeGreaterThan(markBefore);
    tick("EURUSD", 1.21, 6); // certified anew once, at a limit of its mark now
    const before = certificates.made;
    for (let k = 0; k < 20; k++) tick("EURUSD", 1.21 + (k % 2) * 0.001, 7 + k);
    expect(certificates.made - before).toBe(0);
    expect(book.state.accounts.get(accountId)!.highWater).toBe(markBefore);
    // The next DAX tick, even unmoved, takes the mark up to the equity.
    expect(nearLimits(book.state, [SymbolId.parse("DAX")])).toEqual([accountId]);
    tick("DAX", 18_100, 30);
    expect(book.state.accounts.get(accountId)!.highWater).toBe(equityOf(book.state.accounts.get(accountId)!, book.state));
  });

  it("look at a trailing account whose mark rose inside its bands when equity falls back to the floor the mark raised", () => {
    const book = newBook();
    const { apply } = book;
    const accountId = accounts[2]!;
    const tick = (price: number, at: number) => apply({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol: SymbolId.parse("XAUUSD"), price }] });
    apply({ type: "OpenAccount", at: 1, by: "t", account: AccountSpec.parse({ accountId, name: "n", presetId: "p", initialBalanceUsd: 100_000 }) });
    // A floor 2,000 USD under the mark: the nearest limit while the mark is above 99,000.
    const tight = { accountRules: { maxLossMode: "trailing_intraday", maxLossPct: 2 } } as RulesPatch;
    apply({ type: "ActivatePreset", at: 1, accountId, presetId: PresetId.parse("trailing"), version: 1, rules: tight, reason: "why", by: "t" });
    tick(2_000, 2);
    // 500 oz: a dollar of gold is 500 USD of equity.
    apply({ type: "RecordFills", at: 3, fills: [{ accountId, intentId: null, symbol: SymbolId.parse("XAUUSD"), side: "BUY", quantity: 5, price: 2_000, feeUsd: 0, trigger: "order" }] });
    tick(2_000, 4);
    // Up 1,950 USD, a step at a time: the mark follows to 101,950 and its floor to 99,950.
    for (const [k, price] of [2_000.9, 2_001.8, 2_002.7, 2_003.6, 2_003.9].entries()) tick(price, 5 + k);
    const account = () => book.state.accounts.get(accountId)!;
    expect(account().highWater).toBeCloseTo(101_950, 6);
    expect(account().lockedOut).toBeNull();
    // Back down 2,000 USD in one tick: equity 99,950, at the floor the mark raised. The tick locks it out.
    tick(1_999.9, 20);
    expect(equityOf(account(), book.state)).toBeCloseTo(99_950, 6);
    expect(account().lockedOut).not.toBeNull();
  });

  it("see a price a bar moved when a later tick of another symbol comes: an account taken near its limit by the bar is checked at the tick", () => {
    let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
    const accountId = accounts[0]!;
    const apply = (command: Parameters<typeof decide>[0]) => {
      const result = decide(command, state);
      if (!result.ok) throw new Error(JSON.stringify(result.rejection));
      state = result.events.reduce(evolve, state);
    };
    apply({ type: "OpenAccount", at: 1, by: "t", account: AccountSpec.parse({ accountId, name: "n", presetId: "p", initialBalanceUsd: 100_000 }) });
    const [eurusd, xauusd] = [SymbolId.parse("EURUSD"), SymbolId.parse("XAUUSD")];
    apply({ type: "RecordMarket", at: 2, updates: [{ kind: "tick", symbol: eurusd, price: 1.1 }, { kind: "tick", symbol: xauusd, price: 2_000 }] });
    const fill = (symbol: SymbolId, quantity: number, price: number) => ({ accountId, intentId: null, symbol, side: "BUY" as const, quantity, price, feeUsd: 0, trigger: "order" as const });
    apply({ type: "RecordFills", at: 3, fills: [fill(eurusd, 1, 1.1), fill(xauusd, 0.1, 2_000)] });
    // Bands from here: 3,000 USD to the drawdown breaker, over 110,000 + 20,000 USD of positions: ±1.15%.
    apply({ type: "RecordMarket", at: 4, updates: [{ kind: "tick", symbol: xauusd, price: 2_000 }] });
    // A bar takes EURUSD 2.6% down: 2,880 USD lost, 120 USD above the breaker's 97,000 (checked at the bar: nothing).
    apply({ type: "RecordMarket", at: 60_000, updates: [{ kind: "bar", symbol: eurusd, closedAt: 60_000, open: 1.1, high: 1.1, low: 1.0712, close: 1.0712, volume: 1 }] });
    expect(state.accounts.get(accountId)!.breakers.daily_drawdown.tripped).toBe(false);
    // Gold 0.7% down, inside its own band: 140 USD more, through the breaker at that tick.
    apply({ type: "RecordMarket", at: 60_001, updates: [{ kind: "tick", symbol: xauusd, price: 1_986 }] });
    expect(state.accounts.get(accountId)!.breakers.daily_drawdown.tripped).toBe(true);
  });
});

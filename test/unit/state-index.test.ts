import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RulesPatch } from "@/server/engine/config";
import { EngineConfig } from "@/server/engine/config";
import type { Command } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, IntentId, PresetId, SymbolId } from "@/server/engine/ids";
import type { Intent } from "@/server/engine/intent";
import { canonicalJson } from "@/server/engine/replay";
import type { EngineState } from "@/server/engine/state";
import { accountExposure, equityOf, evolve, holdersOf, indexOf, initialState } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import type { LegacyState } from "./legacy-fold";
import { legacyEvolve, legacyInitialState } from "./legacy-fold";

const accounts = ["a-1", "a-2", "a-3", "a-4"].map((id) => AccountId.parse(id));
const symbols = ["EURUSD", "XAUUSD", "US500"].map((s) => SymbolId.parse(s));
// EURUSD and XAUUSD in a volatility cluster, US500 outside any (a bar of any symbol re-marks its holders).
const instruments = Object.fromEntries(
  symbols.map((symbol, i) => [symbol, { sector: "s", contractSize: 10, tickSize: 0.01, averageDailyVolume: 50_000, ...(i < 2 ? { cluster: "c" } : {}) }]),
);
const config = EngineConfig.parse({
  instruments,
  accountRules: { maxLossMode: "trailing_intraday" },
  breakers: { latency: { thresholdMs: 500, cooldownMs: 60_000 } },
  guards: { vetoRegistry: { exitCooldownMs: 600_000, stopLossStreak: { enabled: true, count: 2 } } },
});
/** A preset with another daily reset (Chicago 17:00): its accounts' days end at other instants. */
const chicago: RulesPatch = { dailyReset: { time: "17:00", timeZone: "America/Chicago" } } as RulesPatch;

const open = (accountId: AccountId, at: number): Command => ({
  type: "OpenAccount",
  at,
  by: "t",
  account: AccountSpec.parse({ accountId, name: accountId, presetId: "p", initialBalanceUsd: 100_000 }),
});

const price = fc.double({ min: 50, max: 150, noNaN: true });
const account = fc.constantFrom(...accounts);
const symbol = fc.constantFrom(...symbols);
const step = fc.oneof(
  fc.record({ kind: fc.constant("open" as const), account }),
  fc.record({ kind: fc.constant("fill" as const), account, symbol, side: fc.constantFrom("BUY" as const, "SELL" as const), price, quantity: fc.constantFrom(1, 2, 5), stop: fc.boolean() }),
  fc.record({ kind: fc.constant("tick" as const), symbol, price }),
  fc.record({ kind: fc.constant("bar" as const), symbol, price }),
  fc.record({ kind: fc.constant("intent" as const), account, symbol, side: fc.constantFrom("BUY" as const, "SELL" as const) }),
  fc.record({ kind: fc.constantFrom("trip" as const, "reset" as const, "reopen" as const), account }),
  fc.record({ kind: fc.constant("slow" as const), account, latencyMs: fc.integer({ min: 100, max: 2_000 }) }),
  fc.record({ kind: fc.constant("preset" as const), account, chicago: fc.boolean() }),
  fc.constant({ kind: "clock" as const }),
);

function commandOf(s: typeof step extends fc.Arbitrary<infer T> ? T : never, at: number, n: number): Command {
  switch (s.kind) {
    case "open":
      return open(s.account, at);
    case "fill":
      return { type: "RecordFills", at, fills: [{ accountId: s.account, intentId: null, symbol: s.symbol, side: s.side, quantity: s.quantity, price: s.price, feeUsd: 1, trigger: s.stop ? "stop_loss" : "order" }] };
    case "tick":
      return { type: "RecordMarket", at, updates: [{ kind: "tick", symbol: s.symbol, price: s.price }] };
    case "bar":
      return { type: "RecordMarket", at, updates: [{ kind: "bar", symbol: s.symbol, closedAt: at, open: s.price, high: s.price, low: s.price, close: s.price, volume: 1 }] };
    case "intent": {
      const intent = { intentId: IntentId.parse(`i-${n}`), accountId: s.account, symbol: s.symbol, action: "OPEN", side: s.side, quantity: 1, provenance: { runId: "r", strategyId: "s", regimeId: "g" } } as Intent;
      return { type: "SubmitIntent", at, intent };
    }
    case "trip":
    case "reset":
      return { type: s.kind === "trip" ? "TripBreaker" : "ResetBreaker", at, accountId: s.account, breaker: "manual", reason: "why", by: "t" };
    case "reopen":
      return { type: "ReopenAccount", at, accountId: s.account, reason: "why", by: "t" };
    case "slow":
      return { type: "RecordLatency", at, accountId: s.account, latencyMs: s.latencyMs, source: "venue_ack" };
    case "preset":
      return { type: "ActivatePreset", at, accountId: s.account, presetId: PresetId.parse(s.chicago ? "chicago" : "default"), version: 1, rules: s.chicago ? chicago : ({} as RulesPatch), reason: "why", by: "t" };
    case "clock":
      return { type: "AdvanceClock", at };
  }
}

/**
 * The state as the former fold held it: the same fields without the index, and each account's
 * exposure, which the former fold stored and the new one derives from positions and prices;
 * without the allowances of external fills and the fills' execution ids, which came later
 * (their own tests are in fill-allowances.test.ts).
 */
const asFormerly = ({ index: _index, ...rest }: EngineState) => ({
  ...rest,
  accounts: new Map([...rest.accounts].map(([accountId, { allowances: _allowances, execIds: _execIds, ...account }]) => [accountId, { ...account, exposure: accountExposure(account as never, rest) }])),
});

describe("the state fold with a persistent book and an index", () => {
  it("folds any generated stream to the state the former fold reached, event by event, and keeps its index equal to one built from scratch", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(step, fc.integer({ min: 1, max: 6 * 3_600_000 })), { minLength: 1, maxLength: 60 }), (steps) => {
        const genesis: EngineEvent = { type: "config.applied", at: 0, config, by: "t" };
        let state = evolve(initialState(), genesis);
        let legacy: LegacyState = legacyEvolve(legacyInitialState(), genesis);
        let at = Date.UTC(2026, 0, 5, 6);
        // Three of the four accounts open at the start; the fourth may open later in the stream.
        const opening = accounts.slice(0, 3).map((accountId) => [{ kind: "open" as const, account: accountId }, 1] as const);
        [...opening, ...steps].forEach(([s, gap], n) => {
          at += gap;
          const result = decide(commandOf(s, at, n), state);
          if (!result.ok) return;
          const before = state;
          for (const event of result.events) {
            state = evolve(state, event);
            legacy = legacyEvolve(legacy, event);
          }
          // A command that returns the state after its events returns the fold's.
          if (result.after) expect(canonicalJson(result.after)).toBe(canonicalJson(result.events.reduce(evolve, before)));
          expect(canonicalJson(asFormerly(state))).toBe(canonicalJson(legacy));
          expect(canonicalJson(state.index)).toBe(canonicalJson(indexOf(state)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("re-marks only the holders of a ticked symbol", () => {
    let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
    for (const accountId of accounts) {
      const opened = decide(open(accountId, 1), state);
      if (!opened.ok) throw new Error("not opened");
      state = opened.events.reduce(evolve, state);
    }
    const fill = (accountId: AccountId, symbol: SymbolId): EngineEvent => ({ type: "execution.filled", at: 2, accountId, intentId: null, symbol, side: "BUY", quantity: 1, price: 100, feeUsd: 0, trigger: "order" });
    state = [fill(accounts[0]!, symbols[0]!), fill(accounts[1]!, symbols[0]!), fill(accounts[2]!, symbols[1]!)].reduce(evolve, state);
    expect([...holdersOf(state, symbols[0]!).keys()]).toEqual([accounts[0], accounts[1]]);

    const after = evolve(state, { type: "market.tick", at: 3, symbol: symbols[0]!, price: 101 });

    // Under trailing_intraday the holders' high-water marks follow the price up; nobody else changes.
    const changed = accounts.filter((accountId) => after.accounts.get(accountId) !== state.accounts.get(accountId));
    expect(changed).toEqual([accounts[0], accounts[1]]);
    const down = evolve(after, { type: "market.tick", at: 4, symbol: symbols[0]!, price: 99 });
    expect(accounts.filter((accountId) => down.accounts.get(accountId) !== after.accounts.get(accountId)), "a fall stores nothing").toEqual([]);
    expect(equityOf(after.accounts.get(accounts[0]!)!, after)).toBeCloseTo(100_010);
  });

  it("finds the days due and the next deadline from the index, under each account's own reset rule", () => {
    const monday = Date.UTC(2026, 0, 5, 12); // 13:00 in Prague, 06:00 in Chicago
    let state = evolve(initialState(), { type: "config.applied", at: 0, config, by: "t" });
    for (const command of [open(accounts[0]!, monday), open(accounts[1]!, monday)]) {
      const opened = decide(command, state);
      if (!opened.ok) throw new Error("not opened");
      state = opened.events.reduce(evolve, state);
    }
    const activated = decide({ type: "ActivatePreset", at: monday, accountId: accounts[1]!, presetId: PresetId.parse("chicago"), version: 1, rules: chicago, reason: "why", by: "t" }, state);
    if (!activated.ok) throw new Error("not activated");
    state = activated.events.reduce(evolve, state);
    const ends = [...state.index.dayEnds.keys()].sort((a, b) => a - b);
    expect(ends).toHaveLength(2);

    // Just after the first day ends, only the account under that rule starts a new day.
    const advanced = decide({ type: "AdvanceClock", at: ends[0]! + 1 }, state);
    if (!advanced.ok) throw new Error("no advance");
    const started = advanced.events.filter((event) => event.type === "day.started");
    expect(started.flatMap((event) => (event.type === "day.started" ? event.baselines.map((b) => b.accountId) : []))).toHaveLength(1);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EngineConfigInput } from "@/server/engine/config";
import { EngineConfig } from "@/server/engine/config";
import type { Command } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, IntentId, SymbolId } from "@/server/engine/ids";
import type { Intent } from "@/server/engine/intent";
import { canonicalJson, replay } from "@/server/engine/replay";
import type { EngineState } from "@/server/engine/state";
import { evolve, initialState } from "@/server/engine/state";
import type { Decision } from "@/server/engine/types";
import { AccountSpec } from "@/server/engine/types";

const accountId = AccountId.parse("prop-acc");
const symbols = ["EURUSD", "XAUUSD", "US500"].map((s) => SymbolId.parse(s));
const instruments = Object.fromEntries(
  symbols.map((symbol) => [symbol, { sector: "s", contractSize: 10, tickSize: 0.01, averageDailyVolume: 50_000 }]),
);
const opened: EngineEvent = {
  type: "account.opened",
  at: 0,
  by: "system",
  account: AccountSpec.parse({ accountId, name: "Prop", presetId: "p", initialBalanceUsd: 100_000 }),
};

// ----- arbitraries -----------------------------------------------------------------------------

const price = fc.double({ min: 1, max: 1_000, noNaN: true });
const level = fc.record({ price, size: fc.double({ min: 0, max: 1_000, noNaN: true }) });

/** Market and account history before the intent at t = 100,000 ms. */
const history = fc.record({
  symbol: fc.constantFrom(...symbols),
  lastPrice: fc.option(price, { nil: undefined }),
  priceAgeMs: fc.integer({ min: 0, max: 30_000 }),
  book: fc.option(fc.record({ bids: fc.array(level, { maxLength: 12 }), asks: fc.array(level, { maxLength: 12 }), ageMs: fc.integer({ min: 0, max: 30_000 }) }), {
    nil: undefined,
  }),
  earlierIntents: fc.array(fc.integer({ min: 1, max: 2_000 }), { maxLength: 15 }),
  lockedFor: fc.option(fc.integer({ min: -5_000, max: 5_000 }), { nil: undefined }),
  halted: fc.boolean(),
  /** Log returns of the symbol's bars (CVaR, correlations). */
  returns: fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { maxLength: 60 }),
  /** A long position in another symbol with these bar returns (position correlation). */
  held: fc.option(fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { maxLength: 60 }), { nil: undefined }),
});

const NOW = 100_000;

function stateFrom(h: HistoryValue, config: EngineConfig): EngineState {
  const events: EngineEvent[] = [{ type: "config.applied", at: 0, config, by: "test" }, opened];
  const bars = (symbol: SymbolId, returns: number[]) => {
    let close = 100;
    return [0, ...returns].map((r, i): EngineEvent => {
      close *= Math.exp(r);
      return { type: "market.bar", at: NOW - 90_000 + i, symbol, open: close, high: close, low: close, close, volume: 1 };
    });
  };
  events.push(...bars(h.symbol, h.returns));
  if (h.held) {
    const other = symbols.find((symbol) => symbol !== h.symbol)!;
    const held = bars(other, h.held);
    const last = held[held.length - 1]!;
    const close = last.type === "market.bar" ? last.close : 100;
    events.push(...held, { type: "execution.filled", at: NOW - 80_000, accountId, intentId: null, symbol: other, side: "BUY", quantity: 1, price: close, feeUsd: 0, trigger: "order" });
  }
  if (h.lastPrice !== undefined) events.push({ type: "market.tick", at: NOW - h.priceAgeMs, symbol: h.symbol, price: h.lastPrice });
  if (h.book) events.push({ type: "market.book", at: NOW - h.book.ageMs, symbol: h.symbol, bids: h.book.bids, asks: h.book.asks });
  for (const ago of [...h.earlierIntents].sort((a, b) => b - a)) {
    events.push({ type: "intent.received", at: NOW - ago, intent: baseIntent({ intentId: IntentId.parse(`e-${ago}`) }) });
  }
  if (h.lockedFor !== undefined) {
    events.push({ type: "veto.added", at: 1, accountId, symbol: h.symbol, reason: "manual", note: "", expiresAt: NOW + h.lockedFor, valueAtTrigger: null, by: "t" });
  }
  if (h.halted) events.push({ type: "breaker.tripped", at: 1, accountId, breaker: "manual", reason: "halt", by: "t" });
  return events.reduce(evolve, initialState());
}
type HistoryValue = typeof history extends fc.Arbitrary<infer T> ? T : never;

function baseIntent(overrides: Partial<Intent> = {}): Intent {
  return {
    intentId: IntentId.parse("i"),
    accountId,
    symbol: symbols[0]!,
    action: "OPEN",
    side: "BUY",
    quantity: 1,
    provenance: { runId: "r", strategyId: "s", regimeId: "g" } as Intent["provenance"],
    ...overrides,
  } as Intent;
}

/** A plausible intent: prices within ±8% of the last price, sizes around the liquidity limit. */
const intentFor = (symbol: SymbolId, lastPrice = 100) => {
  const near = fc.double({ min: -0.08, max: 0.08, noNaN: true }).map((d) => lastPrice * (1 + d));
  return fc
    .record({
      action: fc.constantFrom("OPEN" as const, "SCALE" as const, "CLOSE" as const, "FLATTEN" as const),
      side: fc.constantFrom("BUY" as const, "SELL" as const),
      quantity: fc.option(fc.double({ min: 0.01, max: 800, noNaN: true }), { nil: undefined }),
      referencePrice: fc.option(near, { nil: undefined }),
      limitPrice: fc.option(near, { nil: undefined }),
      slPrice: fc.option(near, { nil: undefined }),
      tpPrice: fc.option(near, { nil: undefined }),
    })
    .map((fields) => baseIntent({ ...stripUndefined(fields), symbol, quantity: fields.quantity ?? (fields.action === "FLATTEN" ? undefined : 1) }));
};

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function decisionOf(state: EngineState, intent: Intent, at = NOW): Decision {
  const result = decide({ type: "SubmitIntent", at, intent }, state);
  if (!result.ok) throw new Error(JSON.stringify(result.rejection));
  const decided = result.events.find((event) => event.type === "intent.decided");
  if (decided?.type !== "intent.decided") throw new Error("no decision");
  return decided.decision;
}

const scenario = history.chain((h) => intentFor(h.symbol, h.lastPrice).map((intent) => ({ h, intent })));

/** Scenarios that reach the limits: a price and a book always known, no halt (halts have no limit to tighten). */
const limitScenario = fc
  .record({
    h: history,
    lastPrice: price,
    priceAgeMs: fc.integer({ min: 0, max: 12_000 }),
    bids: fc.array(level, { minLength: 1, maxLength: 12 }),
    asks: fc.array(level, { minLength: 1, maxLength: 12 }),
    bookAgeMs: fc.integer({ min: 0, max: 15_000 }),
  })
  .map(({ h, lastPrice, priceAgeMs, bids, asks, bookAgeMs }): HistoryValue => ({ ...h, halted: false, lastPrice, priceAgeMs, book: { bids, asks, ageMs: bookAgeMs } }))
  .chain((h) => intentFor(h.symbol, h.lastPrice).map((intent) => ({ h, intent })));

const looseInput = {
  instruments,
  guards: {
    throttle: { maxIntentsPerSecond: 8, maxOrderNotionalUsd: 5_000_000 },
    priceSanity: { maxDeviationPct: 5, maxPriceAgeMs: 10_000 },
    liquidity: { maxAdvPct: 1 },
    microstructure: { obiLimit: 0.7, wallMultiple: 5, maxBookAgeMs: 10_000 },
    positionCorrelation: { enabled: true, maxCorrelation: 0.9, minObservations: 10 },
    cvar: { enabled: true, maxPct: 30, minObservations: 20 },
  },
} satisfies EngineConfigInput;

// ----- properties ------------------------------------------------------------------------------

describe("engine properties", () => {
  it("denies an exposure-adding intent with any non-finite number in it", () => {
    const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    const field = fc.constantFrom("quantity", "targetWeight", "limitPrice", "slPrice", "tpPrice", "referencePrice");
    fc.assert(
      fc.property(scenario, field, nonFinite, fc.constantFrom("OPEN" as const, "SCALE" as const), ({ h, intent }, name, bad, action) => {
        const state = stateFrom({ ...h, halted: false }, EngineConfig.parse(looseInput));
        expect(decisionOf(state, { ...intent, action, [name]: bad }).outcome).toBe("denied");
      }),
      { numRuns: 300 },
    );
  });

  it("denies an exposure-adding intent when its price or size is missing", () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom("OPEN" as const, "SCALE" as const), ({ h, intent }, action) => {
        const config = EngineConfig.parse(looseInput);
        const noPrice = stateFrom({ ...h, lastPrice: undefined }, config);
        expect(decisionOf(noPrice, { ...intent, action }).outcome).toBe("denied");
        const { quantity: _omitted, ...sizeless } = intent;
        void _omitted;
        expect(decisionOf(stateFrom(h, config), { ...sizeless, action } as Intent).outcome).toBe("denied");
      }),
      { numRuns: 200 },
    );
  });

  it("never allows an entry with a limit, stop or target off the tick", () => {
    const tick = instruments.EURUSD!.tickSize;
    fc.assert(
      fc.property(
        scenario,
        fc.constantFrom("limitPrice" as const, "slPrice" as const, "tpPrice" as const),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.constantFrom("OPEN" as const, "SCALE" as const),
        ({ h, intent }, field, fraction, action) => {
          // Only a halt comes before parameter_validity: without one, the denial is for the tick.
          const state = stateFrom({ ...h, halted: false }, EngineConfig.parse(looseInput));
          const onTick = Math.round((intent[field] ?? h.lastPrice ?? 100) / tick) * tick;
          const offTick = onTick + fraction * tick;
          expect(decisionOf(state, { ...intent, action, [field]: offTick })).toMatchObject({ outcome: "denied", reason: "price_precision" });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never sizes an entry off the lot step or below the minimum", () => {
    const lotStep = 0.01;
    const minQuantity = 0.05;
    const stepped = Object.fromEntries(Object.entries(instruments).map(([symbol, instrument]) => [symbol, { ...instrument, lotStep, minQuantity, averageDailyVolume: 1e9 }]));
    const config = EngineConfig.parse({ instruments: stepped, guards: { kelly: { multiplier: 0.3 }, volTarget: { enabled: true, riskPerTradePct: 0.5 }, throttle: { maxOrderNotionalUsd: 1e12 } } });
    const stats = fc.record({ winRate: fc.double({ min: 0.3, max: 0.9, noNaN: true }), winLossRatio: fc.double({ min: 0.5, max: 3, noNaN: true }) });
    const size = fc.oneof(fc.integer({ min: 5, max: 80_000 }).map((steps) => ({ quantity: Number((steps * lotStep).toFixed(2)) })), fc.double({ min: 0.001, max: 1, noNaN: true }).map((targetWeight) => ({ targetWeight })));
    let allowed = 0;
    fc.assert(
      fc.property(fc.constantFrom(...symbols), fc.integer({ min: 100, max: 100_000 }), fc.integer({ min: 1, max: 500 }), stats, size, (symbol, ticks, stopTicks, winRates, sized) => {
        const last = ticks * 0.01;
        const state = [{ type: "config.applied", at: 0, config, by: "test" } as EngineEvent, opened, { type: "market.tick", at: NOW - 100, symbol, price: last } as EngineEvent].reduce(evolve, initialState());
        const slPrice = Number(((ticks - Math.min(stopTicks, ticks - 1)) * 0.01).toFixed(2));
        const decision = decisionOf(state, baseIntent({ symbol, stats: winRates, slPrice, quantity: undefined, ...sized } as Partial<Intent>));
        if (decision.outcome !== "allowed" || decision.approvedQuantity === null) return;
        allowed++;
        const steps = decision.approvedQuantity / lotStep;
        expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-6);
        expect(decision.approvedQuantity).toBeGreaterThanOrEqual(minQuantity);
      }),
      { numRuns: 300 },
    );
    expect(allowed).toBeGreaterThan(0); // not true for want of allowed entries
  });

  it("never turns a denial into an approval when a limit is tightened", () => {
    // One limit at a time, so that no other tightened guard masks the one under test.
    const tighten: Record<string, (g: typeof looseInput.guards, f: number) => EngineConfigInput["guards"]> = {
      rate: (g, f) => ({ ...g, throttle: { ...g.throttle, maxIntentsPerSecond: Math.max(1, Math.floor(g.throttle.maxIntentsPerSecond * f)) } }),
      notional: (g, f) => ({ ...g, throttle: { ...g.throttle, maxOrderNotionalUsd: g.throttle.maxOrderNotionalUsd * f } }),
      deviation: (g, f) => ({ ...g, priceSanity: { ...g.priceSanity, maxDeviationPct: g.priceSanity.maxDeviationPct * f } }),
      priceAge: (g, f) => ({ ...g, priceSanity: { ...g.priceSanity, maxPriceAgeMs: Math.max(1, Math.floor(g.priceSanity.maxPriceAgeMs * f)) } }),
      adv: (g, f) => ({ ...g, liquidity: { maxAdvPct: g.liquidity.maxAdvPct * f } }),
      obi: (g, f) => ({ ...g, microstructure: { ...g.microstructure, obiLimit: g.microstructure.obiLimit * f } }),
      wall: (g, f) => ({ ...g, microstructure: { ...g.microstructure, wallMultiple: g.microstructure.wallMultiple * f } }),
      bookAge: (g, f) => ({ ...g, microstructure: { ...g.microstructure, maxBookAgeMs: Math.max(1, Math.floor(g.microstructure.maxBookAgeMs * f)) } }),
      correlation: (g, f) => ({ ...g, positionCorrelation: { ...g.positionCorrelation, maxCorrelation: -1 + (g.positionCorrelation.maxCorrelation + 1) * f } }),
      cvar: (g, f) => ({ ...g, cvar: { ...g.cvar, maxPct: g.cvar.maxPct * f } }),
    };
    fc.assert(
      fc.property(limitScenario, fc.constantFrom(...Object.keys(tighten)), fc.double({ min: 0.01, max: 1, noNaN: true }), ({ h, intent }, limit, f) => {
        const loose = EngineConfig.parse(looseInput);
        const tight = EngineConfig.parse({ instruments, guards: tighten[limit]!(looseInput.guards, f) });
        if (decisionOf(stateFrom(h, loose), intent).outcome === "denied") {
          expect(decisionOf(stateFrom(h, tight), intent).outcome).toBe("denied");
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("never denies an exposure-reducing intent because of a halt, reduce-only or a lock-out", () => {
    const stop = fc.constantFrom("breaker", "firm", "reducing", "locked_out");
    fc.assert(
      fc.property(scenario, fc.constantFrom("CLOSE" as const, "FLATTEN" as const), stop, ({ h, intent }, action, why) => {
        let state = stateFrom({ ...h, halted: why === "breaker" }, EngineConfig.parse(looseInput));
        if (why === "firm") state = evolve(state, { type: "firm.halted", at: 2, reason: "outage", by: "t" });
        if (why === "reducing") state = evolve(state, { type: "account.reducing", at: 2, accountId, cause: "manual", untilReset: false, reason: "pause", by: "t" });
        if (why === "locked_out") state = evolve(state, { type: "account.locked_out", at: 2, accountId, equity: 1, floor: 2, rule: "max_loss" });
        const d = decisionOf(state, { ...intent, action });
        expect(d.outcome === "denied" ? d.guard : "allowed").not.toBe("trading_state");
      }),
      { numRuns: 300 },
    );
  });

  it("replays any generated stream twice to identical decisions and state hash", () => {
    const command = fc.oneof(
      intentFor(symbols[0]!).map((intent) => ({ kind: "intent" as const, intent })),
      price.map((p) => ({ kind: "tick" as const, price: p })),
      fc.constantFrom({ kind: "trip" as const }, { kind: "reset" as const }, { kind: "lock" as const }, { kind: "unlock" as const }, { kind: "clock" as const }),
      fc.constantFrom({ kind: "reduce" as const }, { kind: "resume" as const }),
      fc.record({ kind: fc.constant("fill" as const), side: fc.constantFrom("BUY" as const, "SELL" as const), price, stop: fc.boolean() }),
      fc.record({ kind: fc.constant("bar" as const), price }),
    );
    const verdict = fc.option(fc.boolean().map((veto) => ({ status: "verdict" as const, reviewer: "rule", veto, killReason: veto ? "no" : null, riskFlags: [] })), { nil: undefined });
    fc.assert(
      fc.property(fc.array(fc.tuple(command, fc.integer({ min: 1, max: 4 * 3_600_000 }), verdict), { minLength: 1, maxLength: 40 }), (steps) => {
        const config = EngineConfig.parse({
          instruments,
          accountRules: { maxLossMode: "trailing_intraday" },
          guards: {
            vetoRegistry: { exitCooldownMs: 600_000, stopLossStreak: { enabled: true, count: 2 } },
            reviewer: { enabled: true },
            cvar: { enabled: true, minObservations: 3 },
          },
        });
        let state = [{ type: "config.applied", at: 0, config, by: "t" } as EngineEvent, opened].reduce(
          evolve,
          initialState(),
        );
        const ledger: EngineEvent[] = [{ type: "config.applied", at: 0, config: state.config, by: "t" }, opened];
        let at = 0;
        steps.forEach(([step, gap, review], n) => {
          at += gap;
          const c: Command =
            step.kind === "intent"
              ? { type: "SubmitIntent", at, intent: { ...step.intent, intentId: IntentId.parse(`g-${n}`) }, ...(review ? { review } : {}) }
              : step.kind === "fill"
                ? { type: "RecordFills", at, fills: [{ accountId, intentId: null, symbol: symbols[0]!, side: step.side, quantity: 100, price: step.price, feeUsd: 1, trigger: step.stop ? "stop_loss" : "order" }] }
              : step.kind === "bar"
                ? { type: "RecordMarket", at, updates: [{ kind: "bar", symbol: symbols[0]!, closedAt: at, open: step.price, high: step.price, low: step.price, close: step.price, volume: 1 }] }
              : step.kind === "reduce"
                ? { type: "EnterReducing", at, accountId, reason: "why", by: "t" }
              : step.kind === "resume"
                ? { type: "EndReducing", at, accountId, reason: "why", by: "t" }
              : step.kind === "tick"
                ? { type: "RecordMarket", at, updates: [{ kind: "tick", symbol: symbols[0]!, price: step.price }] }
                : step.kind === "trip" || step.kind === "reset"
                  ? { type: step.kind === "trip" ? "TripBreaker" : "ResetBreaker", at, accountId, breaker: "manual", reason: "why", by: "t" }
                  : step.kind === "lock"
                    ? { type: "LockSymbol", at, accountId, symbol: symbols[0]!, note: "", expiresAt: null, by: "t" }
                    : step.kind === "unlock"
                      ? { type: "UnlockSymbol", at, accountId, symbol: symbols[0]!, reason: "why", by: "t" }
                      : { type: "AdvanceClock", at };
          const result = decide(c, state);
          if (!result.ok) return; // a refused command records nothing
          ledger.push(...result.events);
          state = result.events.reduce(evolve, state);
        });
        const records = ledger.map((event, i) => ({ seq: i + 1, event }));
        const first = replay(records);
        const second = replay(records);
        expect(first.mismatches).toEqual([]);
        expect(second.mismatches).toEqual([]);
        expect(canonicalJson(first.state)).toBe(canonicalJson(second.state));
        expect(canonicalJson(first.state)).toBe(canonicalJson(state));
      }),
      { numRuns: 200 },
    );
  });
});

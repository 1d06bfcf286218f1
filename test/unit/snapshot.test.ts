import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { toPlainMaps } from "@/server/engine/persistent-map";
import { describe, expect, it } from "vitest";
import { EngineConfig, Rules, rulesOf } from "@/server/engine/config";
import type { Command, Decided } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent, OrderEvent } from "@/server/engine/events";
import { AccountId, OrderId, PresetId, SymbolId } from "@/server/engine/ids";
import type { IntentAction, Side } from "@/server/engine/intent";
import { SNAPSHOT_FORMAT, decodeState, decodeValue, encodeState, encodeValue } from "@/server/engine/snapshot";
import type { EngineState } from "@/server/engine/state";
import { accountExposure, evolve, initialState } from "@/server/engine/state";
import type { BreakerKind, FillTrigger } from "@/server/engine/types";
import { AccountSpec } from "@/server/engine/types";
import { accountId, fill, intent, opened, tick } from "./given";

/**
 * A snapshot resumes the fold exactly: folding a prefix, snapshotting (through JSON text) and
 * folding the rest gives the state and the decisions that folding the whole stream gives.
 */

// ----- the world -------------------------------------------------------------------------------

const otherAccountId = AccountId.parse("acc-2");
const accountIds = [accountId, otherAccountId] as const;
const symbols = ["EURUSD", "XAUUSD", "US500"].map((symbol) => SymbolId.parse(symbol));
const basePrices = [1.1, 2_000, 5_000];
const T0 = Date.UTC(2026, 0, 5, 8); // a Monday morning

const instruments = {
  EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  XAUUSD: { sector: "metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 100_000 },
  US500: { sector: "indices", contractSize: 1, tickSize: 0.1, averageDailyVolume: 1_000_000 },
};

/** Two configurations, so that a stream may switch between them (a new λ rebuilds the pairs). */
const configs = [
  EngineConfig.parse({
    instruments,
    market: { atrPeriod: 5 },
    guards: {
      vetoRegistry: { exitCooldownMs: 60_000, stopLossStreak: { enabled: true, count: 2 } },
      benchmarkCorrelation: { enabled: true, benchmark: "US500", minObservations: 5 },
      positionCorrelation: { enabled: true, maxCorrelation: 0.8, minObservations: 5 },
      cvar: { enabled: true, maxPct: 50, minObservations: 5 },
      volTarget: { enabled: true, riskPerTradePct: 5 },
    },
  }),
  EngineConfig.parse({
    instruments,
    accountRules: { maxLossMode: "trailing_intraday", dailyLossBreach: "hard", dailyBaselineBasis: "max_balance_equity" },
    market: { ewmaLambda: 0.9, returnsWindow: 20, atrPeriod: 3 },
    guards: {
      vetoRegistry: { stopLossStreak: { enabled: true, count: 3 } },
      clusterCap: { enabled: true, maxPct: 500 },
      sectorCap: { enabled: true, maxPct: 800 },
      dailyRiskQuota: { enabled: true, maxPct: 10 },
      positionCorrelation: { enabled: true, minObservations: 3 },
      reviewer: { enabled: true },
    },
  }),
] as const;

/** Preset rules an account may switch to: the two configurations' and one resetting at 17:00 in Chicago. */
const presetRules = [
  rulesOf(configs[0]),
  rulesOf(configs[1]),
  Rules.parse({ ...rulesOf(configs[0]), dailyReset: { time: "17:00", timeZone: "America/Chicago" }, accountRules: { dailyLossBreach: "hard", maxLossPct: 8 } }),
];

const genesis: EngineState = [{ type: "config.applied", at: 0, config: configs[0], by: "t" } as EngineEvent, opened].reduce(evolve, initialState());

// ----- streams ---------------------------------------------------------------------------------

const who = fc.constantFrom(0, 1);
const sym = fc.constantFrom(0, 1, 2);
const side = fc.constantFrom<Side>("BUY", "SELL");
const move = fc.double({ min: -0.03, max: 0.03, noNaN: true });
const lots = fc.double({ min: 0.01, max: 3, noNaN: true });
const pick = fc.nat(7);

/** What happens at one instant, as data; `commandFor` turns it into a command against the state. */
const step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("intent" as const), who, sym, side, lots, action: fc.constantFrom<IntentAction>("OPEN", "OPEN", "SCALE", "CLOSE", "FLATTEN"), stopPct: fc.option(fc.double({ min: 0.002, max: 0.05, noNaN: true }), { nil: undefined }), veto: fc.option(fc.boolean(), { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("tick" as const), sym, move }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("bars" as const), factor: move, noise: fc.tuple(move, move, move), only: fc.option(sym, { nil: undefined, freq: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("book" as const), sym, bids: fc.array(fc.double({ min: 0, max: 1_000, noNaN: true }), { maxLength: 5 }), asks: fc.array(fc.double({ min: 0, max: 1_000, noNaN: true }), { maxLength: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("fill" as const), who, sym, side, lots, move, trigger: fc.constantFrom<FillTrigger>("order", "order", "stop_loss", "take_profit", "liquidation"), order: fc.option(pick, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("queue" as const), who, sym, side, lots }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("order" as const), order: pick, event: fc.constantFrom("order.sent" as const, "order.acknowledged" as const, "order.cancelled" as const, "order.superseded" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lock" as const), who, sym, minutes: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unlock" as const), who, sym }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unlockSide" as const), who, side }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("breaker" as const), who, trip: fc.boolean(), breaker: fc.constantFrom<BreakerKind>("manual", "manual", "daily_drawdown", "execution_failures", "latency") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reducing" as const), who, enter: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("firm" as const), halt: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("latency" as const), who, latencyMs: fc.integer({ min: 0, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("failure" as const), who, sym }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reopen" as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clock" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("openAccount" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("config" as const), variant: fc.constantFrom(0, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("preset" as const), who, variant: fc.constantFrom(0, 1, 2) }) },
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

type Timed = { readonly what: Step; readonly at: number };

const lastPrice = (state: EngineState, s: number) => state.market.get(symbols[s]!)?.lastPrice ?? basePrices[s]!;

/** The n-th open order (in the state's order), if any: commands about orders name them this way. */
function openOrder(state: EngineState, k: number) {
  const orders = [...state.orders];
  return orders.length === 0 ? undefined : orders[k % orders.length]!;
}

/** The command a step makes at `at` against `state`; `n` numbers the ids it creates. */
function commandFor(state: EngineState, { what, at }: Timed, n: number): Command | null {
  const by = "t";
  const reason = "a reason";
  switch (what.kind) {
    case "intent": {
      const price = lastPrice(state, what.sym);
      const submitted = intent({
        intentId: `i-${n}`,
        accountId: accountIds[what.who],
        symbol: symbols[what.sym],
        action: what.action,
        side: what.side,
        quantity: what.action === "FLATTEN" ? undefined : what.lots,
        referencePrice: price,
        slPrice: what.stopPct === undefined ? undefined : price * (what.side === "BUY" ? 1 - what.stopPct : 1 + what.stopPct),
      });
      const review = what.veto === undefined ? {} : { review: { status: "verdict" as const, reviewer: "rule", veto: what.veto, killReason: what.veto ? "no" : null, riskFlags: [] } };
      return { type: "SubmitIntent", at, intent: submitted, ...review };
    }
    case "tick":
      return tick(lastPrice(state, what.sym) * (1 + what.move), at, symbols[what.sym]!);
    case "bars":
      return {
        type: "RecordMarket",
        at,
        updates: symbols.flatMap((symbol, s) => {
          if (what.only !== undefined && what.only !== s) return [];
          const open = lastPrice(state, s);
          const close = open * Math.exp(what.factor + what.noise[s]!);
          return [{ kind: "bar" as const, symbol, closedAt: at, open, high: Math.max(open, close) * 1.001, low: Math.min(open, close) * 0.999, close, volume: 1_000 }];
        }),
      };
    case "book": {
      const price = lastPrice(state, what.sym);
      const levels = (sizes: number[], sign: 1 | -1) => sizes.map((size, k) => ({ price: price * (1 + sign * 0.0001 * (k + 1)), size }));
      return { type: "RecordMarket", at, updates: [{ kind: "book", symbol: symbols[what.sym]!, bids: levels(what.bids, -1), asks: levels(what.asks, 1) }] };
    }
    case "fill": {
      const order = what.order === undefined ? undefined : openOrder(state, what.order);
      if (order) {
        const [orderId, o] = order;
        const s = symbols.indexOf(o.symbol);
        const quantity = Math.min(what.lots, o.quantity - o.filledQuantity);
        return { type: "RecordFills", at, fills: [fill(o.side, quantity, lastPrice(state, s) * (1 + what.move), { accountId: o.accountId, symbol: o.symbol, orderId, trigger: what.trigger })] };
      }
      const price = lastPrice(state, what.sym) * (1 + what.move);
      return { type: "RecordFills", at, fills: [fill(what.side, what.lots, price, { accountId: accountIds[what.who]!, symbol: symbols[what.sym]!, trigger: what.trigger, feeUsd: 1 })] };
    }
    case "queue": {
      const queued: OrderEvent = { type: "order.queued", at, orderId: OrderId.parse(`o-${n}`), accountId: accountIds[what.who]!, intentId: null, symbol: symbols[what.sym]!, side: what.side, quantity: what.lots, kind: "entry", limitPrice: null, slPrice: null, tpPrice: null };
      return { type: "RecordOrders", at, events: [queued] };
    }
    case "order": {
      const order = openOrder(state, what.order);
      if (!order) return null;
      const [orderId, { accountId }] = order;
      const event: OrderEvent =
        what.event === "order.sent"
          ? { type: what.event, at, orderId, accountId, venue: "sim" }
          : what.event === "order.acknowledged"
            ? { type: what.event, at, orderId, accountId, latencyMs: 12 }
            : what.event === "order.cancelled"
              ? { type: what.event, at, orderId, accountId, reason }
              : { type: what.event, at, orderId, accountId, byOrderId: OrderId.parse(`o-${n}`) };
      return { type: "RecordOrders", at, events: [event] };
    }
    case "lock":
      return { type: "LockSymbol", at, accountId: accountIds[what.who]!, symbol: symbols[what.sym]!, note: "", expiresAt: what.minutes === undefined ? null : at + what.minutes * 60_000, by };
    case "unlock":
      return { type: "UnlockSymbol", at, accountId: accountIds[what.who]!, symbol: symbols[what.sym]!, reason, by };
    case "unlockSide":
      return { type: "UnlockSide", at, accountId: accountIds[what.who]!, side: what.side, reason, by };
    case "breaker":
      return { type: what.trip ? "TripBreaker" : "ResetBreaker", at, accountId: accountIds[what.who]!, breaker: what.breaker, reason, by };
    case "reducing":
      return { type: what.enter ? "EnterReducing" : "EndReducing", at, accountId: accountIds[what.who]!, reason, by };
    case "firm":
      return { type: what.halt ? "HaltFirm" : "ResumeFirm", at, reason, by };
    case "latency":
      return { type: "RecordLatency", at, accountId: accountIds[what.who]!, latencyMs: what.latencyMs, source: "venue_ack" };
    case "failure":
      return { type: "RecordExecutionFailure", at, accountId: accountIds[what.who]!, symbol: symbols[what.sym]!, intentId: null, failure: "timeout", detail: "no answer" };
    case "reopen":
      return { type: "ReopenAccount", at, accountId: accountIds[what.who]!, reason, by };
    case "clock":
      return { type: "AdvanceClock", at };
    case "openAccount":
      return { type: "OpenAccount", at, by, account: AccountSpec.parse({ accountId: otherAccountId, name: "Second", presetId: "p", initialBalanceUsd: 50_000, execution: "simulated" }) };
    case "config":
      return { type: "ApplyConfig", at, config: configs[what.variant], by };
    case "preset":
      return { type: "ActivatePreset", at, accountId: accountIds[what.who], presetId: PresetId.parse(`p-${what.variant}`), version: 1, rules: presetRules[what.variant]!, reason, by };
  }
}

/** Decides and folds `steps` from index `from` on; every outcome (events or a rejection) in order. */
function drive(state: EngineState, steps: readonly Timed[], from = 0) {
  const outcomes: Decided[] = [];
  for (let n = from; n < steps.length; n++) {
    const command = commandFor(state, steps[n]!, n);
    if (!command) continue;
    const decided = decide(command, state);
    // The events or the rejection; the state after them is this fold's to check.
    outcomes.push(decided.ok ? { ok: true, events: decided.events } : decided);
    if (decided.ok) state = decided.events.reduce(evolve, state);
  }
  return { state, outcomes };
}

/** Through a snapshot and its JSON text, as the store keeps it. */
const throughSnapshot = (state: EngineState) => decodeState(JSON.parse(JSON.stringify(encodeState(state))));

/** Commands that read most of the state: every kind of intent on every symbol for every account, a day later, new prices. */
function probes(state: EngineState, at: number): Command[] {
  const intents = [...state.accounts.keys()].flatMap((id) =>
    symbols.flatMap((symbol, s) =>
      (["OPEN", "CLOSE", "FLATTEN"] as const).flatMap((action) =>
        (["BUY", "SELL"] as const).map((side): Command => ({
          type: "SubmitIntent",
          at,
          intent: intent({ intentId: `p-${id}-${symbol}-${action}-${side}`, accountId: id, symbol, action, side, quantity: action === "FLATTEN" ? undefined : 0.5, referencePrice: lastPrice(state, s) }),
        })),
      ),
    ),
  );
  return [...intents, { type: "AdvanceClock", at: at + 86_400_000 }, tick(lastPrice(state, 0) * 0.9, at, symbols[0]!), tick(lastPrice(state, 2) * 1.1, at, symbols[2]!)];
}

/**
 * Folds `steps` up to `split`, takes a snapshot there, then folds the rest on both: the state
 * restored from the snapshot must equal the state it was taken of, lead to the same outcomes
 * and the same state, and decide the probes after the stream the same way.
 */
function expectSnapshotResumes(steps: readonly Timed[], split: number): void {
  const prefix = drive(genesis, steps.slice(0, split));
  const restored = throughSnapshot(prefix.state);
  expect(isDeepStrictEqual(toPlainMaps(restored), toPlainMaps(prefix.state))).toBe(true);
  // The encoded form keeps Map order, which deep equality of Maps does not look at.
  expect(encodeState(restored)).toStrictEqual(encodeState(prefix.state));

  const whole = drive(prefix.state, steps, split);
  const resumed = drive(restored, steps, split);
  expect(resumed.outcomes).toStrictEqual(whole.outcomes);
  expect(encodeState(resumed.state)).toStrictEqual(encodeState(whole.state));
  expect(isDeepStrictEqual(toPlainMaps(resumed.state), toPlainMaps(whole.state))).toBe(true);

  const at = (steps[steps.length - 1]?.at ?? T0) + 1;
  // What a probe decides (the state after it, which some commands return, is compared above by its fold).
  const decided = (result: ReturnType<typeof decide>) => (result.ok ? { ok: true, events: result.events } : result);
  for (const probe of probes(whole.state, at)) expect(decided(decide(probe, resumed.state))).toStrictEqual(decided(decide(probe, whole.state)));
}

// ----- a stream with every part of the state ---------------------------------------------------

/** Correlated bars, positions, vetoes, a side lock, open orders and a locked-out account. */
function everything(): Step[] {
  const steps: Step[] = [{ kind: "openAccount" }];
  for (let k = 0; k < 30; k++) {
    const wave = Math.sin(k * 1.7) * 0.004;
    steps.push({ kind: "bars", factor: wave, noise: [0.001 * Math.cos(k), -0.0015 * Math.sin(k * 2.3), 0.0005 * Math.cos(k * 0.7)], only: k % 7 === 3 ? 1 : undefined });
  }
  steps.push(
    { kind: "tick", sym: 0, move: 0 },
    { kind: "tick", sym: 1, move: 0 },
    { kind: "tick", sym: 2, move: 0 },
    { kind: "book", sym: 0, bids: [100, 200, 300], asks: [150, 250] },
    // Positions: a long EURUSD and a short US500 on the first account.
    { kind: "fill", who: 0, sym: 0, side: "BUY", lots: 0.5, move: 0, trigger: "order", order: undefined },
    { kind: "fill", who: 0, sym: 2, side: "SELL", lots: 2, move: 0, trigger: "order", order: undefined },
    // Two stop-losses of gold longs: the symbol vetoed, then long entries locked account-wide.
    { kind: "fill", who: 0, sym: 1, side: "BUY", lots: 0.1, move: 0, trigger: "order", order: undefined },
    { kind: "fill", who: 0, sym: 1, side: "SELL", lots: 0.1, move: -0.01, trigger: "stop_loss", order: undefined },
    { kind: "fill", who: 0, sym: 1, side: "BUY", lots: 0.1, move: 0, trigger: "order", order: undefined },
    { kind: "fill", who: 0, sym: 1, side: "SELL", lots: 0.1, move: -0.01, trigger: "stop_loss", order: undefined },
    { kind: "lock", who: 0, sym: 2, minutes: 90 },
    { kind: "intent", who: 0, sym: 2, side: "BUY", lots: 1, action: "OPEN", stopPct: 0.01, veto: undefined },
    { kind: "intent", who: 0, sym: 0, side: "SELL", lots: 0.2, action: "OPEN", stopPct: 0.01, veto: undefined },
    { kind: "intent", who: 0, sym: 1, side: "SELL", lots: 0.05, action: "OPEN", stopPct: 0.02, veto: undefined },
    // Open orders: one queued, one sent and partly filled, one acknowledged.
    { kind: "queue", who: 0, sym: 0, side: "BUY", lots: 0.3 },
    { kind: "queue", who: 1, sym: 2, side: "SELL", lots: 1 },
    { kind: "queue", who: 0, sym: 1, side: "SELL", lots: 0.2 },
    { kind: "order", order: 1, event: "order.sent" },
    { kind: "order", order: 2, event: "order.acknowledged" },
    { kind: "fill", who: 0, sym: 0, side: "BUY", lots: 0.4, move: 0, trigger: "order", order: 1 },
    // The second account buys 5 lots of EURUSD and the price falls 3%: locked out at the max-loss floor.
    { kind: "fill", who: 1, sym: 0, side: "BUY", lots: 5, move: 0, trigger: "order", order: undefined },
    { kind: "tick", sym: 0, move: -0.03 },
    { kind: "latency", who: 0, latencyMs: 4_000 },
    { kind: "reducing", who: 0, enter: true },
    { kind: "firm", halt: true },
    { kind: "firm", halt: false },
  );
  return steps;
}

/** Steps a second apart from T0. */
const timed = (steps: readonly Step[]): Timed[] => steps.map((what, k) => ({ what, at: T0 + (k + 1) * 1_000 }));

/** Mostly seconds apart (prices stay fresh), now and then hours (days start, locks expire). */
const gap = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 * 3_600_000 }) });

/** Generated steps after a warm-up: none, the second account and 30 bars, or the whole of `everything`. */
const stream = fc
  .tuple(fc.constantFrom(0, 31, everything().length), fc.array(fc.tuple(step, gap), { minLength: 1, maxLength: 80, size: "max" }))
  .map(([warmUp, generated]) => {
    const steps = timed(everything().slice(0, warmUp));
    let at = steps[steps.length - 1]?.at ?? T0;
    return [...steps, ...generated.map(([what, ms]) => ({ what, at: (at += ms) }))];
  });

describe("state snapshots", () => {
  it("restores a state with every part of it and resumes the fold exactly at any point", () => {
    const steps = timed(everything());
    const { state, outcomes } = drive(genesis, steps);
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    const [first, second] = accountIds.map((id) => state.accounts.get(id)!);
    expect([...first!.positions.keys()]).toEqual(expect.arrayContaining(["EURUSD", "US500"]));
    expect(first!.vetoes.size).toBeGreaterThanOrEqual(2);
    expect([...first!.sideLocks.keys()]).toEqual(["BUY"]);
    expect(accountExposure(first!, state).byCluster.size).toBeGreaterThan(0);
    expect(first!.reducing).not.toBeNull();
    expect(second!.lockedOut).not.toBeNull();
    expect(state.orders.size).toBeGreaterThanOrEqual(3);
    expect([...state.orders.values()].some((order) => order.filledQuantity > 0 && order.status === "sent")).toBe(true);
    expect(state.market.get(symbols[1]!)!.stats.returns.length).toBeGreaterThan(20);
    expect(state.market.get(symbols[0]!)!.book).not.toBeNull();
    for (const [x, y] of [[0, 1], [0, 2], [1, 2]] as const) {
      const moments = state.pairs.get(symbols[x]!)!.get(symbols[y]!)!;
      expect(moments.n).toBeGreaterThan(20);
      expect(moments.correlation).not.toBeNull();
    }

    for (let split = 0; split <= steps.length; split++) expectSnapshotResumes(steps, split);
  });

  it("resumes any generated stream from a snapshot at any point to the same state and decisions", () => {
    fc.assert(
      fc.property(stream, fc.nat(), (steps, at) => expectSnapshotResumes(steps, at % (steps.length + 1))),
      { numRuns: 300 },
    );
  }, 60_000);

  it("keeps non-finite and signed-zero numbers, and the configuration deep-equal", () => {
    // Bars whose closes overflow the log return: -Infinity returns, an infinite variance, NaN moments.
    const bar = (at: number, symbol: SymbolId, close: number): EngineEvent => ({ type: "market.bar", at, symbol, open: close, high: close, low: close, close, volume: 1 });
    let state = [bar(1, symbols[0]!, 1e300), bar(1, symbols[1]!, 1e-300), bar(2, symbols[0]!, 1e-300), bar(2, symbols[1]!, 1e300), bar(3, symbols[0]!, 1), bar(3, symbols[1]!, 1)].reduce(evolve, genesis);
    const account = state.accounts.get(accountId)!;
    state = { ...state, accounts: state.accounts.set(accountId, { ...account, balance: -0, highWater: Number.POSITIVE_INFINITY, lastSlowAt: Number.NaN }) };
    const numbers = [...state.market.get(symbols[0]!)!.stats.returns.map((r) => r.value), state.market.get(symbols[0]!)!.stats.ewmaVariance];
    expect(numbers).toEqual(expect.arrayContaining([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]));

    const restored = throughSnapshot(state);
    expect(isDeepStrictEqual(toPlainMaps(restored), toPlainMaps(state))).toBe(true);
    expect(Object.is(restored.accounts.get(accountId)!.balance, -0)).toBe(true);
    expect(isDeepStrictEqual(restored.config, configs[0])).toBe(true);
    expect(isDeepStrictEqual(toPlainMaps(throughSnapshot(initialState())), toPlainMaps(initialState()))).toBe(true);
  });

  it("keeps Map order, undefined, `$` and `__proto__` keys in any value, and refuses what JSON cannot hold", () => {
    const value = {
      order: new Map<unknown, unknown>([["b", 1], ["a", new Map([[1, -0]])], [Number.NaN, undefined]]),
      tagLike: { $: "map", entries: [] },
      optional: undefined,
      list: [Number.POSITIVE_INFINITY, undefined, null, "x", true],
      ...JSON.parse('{"__proto__": {"polluted": true}}'),
    };
    const restored = decodeValue(JSON.parse(JSON.stringify(encodeValue(value)))) as typeof value;
    expect(isDeepStrictEqual(restored, value)).toBe(true);
    expect([...restored.order.keys()]).toEqual(["b", "a", Number.NaN]);
    expect(Object.getPrototypeOf(restored)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    expect(() => encodeValue({ accounts: [{ seen: new Set([1]) }] })).toThrow("cannot encode a Set at accounts.0.seen");
    expect(() => encodeValue({ at: new Date(0) })).toThrow("cannot encode a Date at at");
    expect(() => encodeValue({ big: 1n })).toThrow("cannot encode a bigint at big");
    expect(() => encodeValue(new Map([["k", () => 1]]))).toThrow("cannot encode a function at entry 0");
  });

  it("refuses a tampered or outdated snapshot instead of decoding garbage", () => {
    const { state } = drive(genesis, timed(everything()));
    const text = JSON.stringify(encodeState(state));
    expect(decodeState(JSON.parse(text))).toBeDefined();
    const tampered = (edit: (json: string) => string) => () => decodeState(JSON.parse(edit(text)));
    const once = (from: string | RegExp, to: string) => (json: string) => {
      expect(json).toMatch(from);
      return json.replace(from, to);
    };

    expect(tampered(once(`{"format":${SNAPSHOT_FORMAT},`, `{"format":${SNAPSHOT_FORMAT + 1},`))).toThrow("not a snapshot of format");
    expect(tampered(once(/"balance":[^,]+/, '"balance":"1"'))).toThrow(/balance/);
    expect(tampered(once('"filledQuantity":0,', ""))).toThrow(/filledQuantity/);
    expect(tampered(once('"lastSlowAt":', '"surprise":1,"lastSlowAt":'))).toThrow(/surprise/);
    expect(tampered(once('"status":"sent"', '"status":"lost"'))).toThrow(/status/);
    expect(tampered(once('"accountId":"acc-1"', '"accountId":"no spaces allowed"'))).toThrow("not an engine state");
    expect(tampered(once('"positions":{"$":"map","entries":[[', '"positions":{"$":"map","entries":[["x",1],['))).toThrow(/positions/);
    expect(tampered(once('{"$":"map","entries":[', '{"$":"set","entries":['))).toThrow('unknown tag "set"');
    expect(tampered(once('"entries":[["', '"entries":[["k"],["'))).toThrow("not a [key, value] pair");
    expect(tampered(once('"contractSize":100000', '"contractSize":-1'))).toThrow(/config\.instruments\.EURUSD\.contractSize/);
    expect(() => decodeState(null)).toThrow("not a snapshot");
    expect(() => decodeState({ format: SNAPSHOT_FORMAT, state: 1 })).toThrow("not an engine state");
    expect(() => decodeState({ format: SNAPSHOT_FORMAT, state: { $: "-0", extra: 1 } })).toThrow("unknown tag");
    expect(() => decodeValue(Number.NaN)).toThrow("a bare NaN");
  });
});

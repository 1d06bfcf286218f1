import type { Command, FillReport } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, IntentId, SymbolId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
import type { EngineConfigInput } from "@/server/engine/config";
import { EngineConfig } from "@/server/engine/config";
import type { EngineState } from "@/server/engine/state";
import { evolve, initialState } from "@/server/engine/state";
import type { Decision } from "@/server/engine/types";
import { AccountSpec } from "@/server/engine/types";

/** Test helpers: real events and real commands, no mocks. */
export const accountId = AccountId.parse("acc-1");

export const opened: EngineEvent = {
  type: "account.opened",
  at: 1_000,
  by: "system",
  account: AccountSpec.parse({ accountId, name: "Test 100K", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }),
};

export const tripped: EngineEvent = {
  type: "breaker.tripped",
  at: 2_000,
  accountId,
  breaker: "manual",
  reason: "news event",
  by: "risk-manager",
};

/** EURUSD: 100K contract; ADV 1,000,000 lots (so 1% of ADV is 10,000 lots). */
export const config = EngineConfig.parse({
  instruments: {
    EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  },
});

export const configured = (overrides: EngineConfigInput = {}): EngineEvent => ({
  type: "config.applied",
  at: 0,
  by: "system",
  config: EngineConfig.parse({ ...config, ...overrides, guards: { ...config.guards, ...overrides.guards } }),
});

/** A long position of 1 lot EURUSD from 1.1, filled at t = 1,500 ms (something for exits to close). */
export const long: EngineEvent = {
  type: "execution.filled",
  at: 1_500,
  accountId,
  intentId: null,
  symbol: SymbolId.parse("EURUSD"),
  side: "BUY",
  quantity: 1,
  price: 1.1,
  feeUsd: 0,
  trigger: "order",
};

/** EURUSD last traded at 1.1 at t = 2,500 ms. */
export const priced: EngineEvent = { type: "market.tick", at: 2_500, symbol: SymbolId.parse("EURUSD"), price: 1.1 };

/** A state folded from `events`, on top of the test configuration. */
export function given(...events: EngineEvent[]): EngineState {
  return events.reduce(evolve, initialState(config));
}

export function intent(overrides: Partial<Record<keyof Intent, unknown>> = {}): Intent {
  return Intent.parse({
    intentId: IntentId.parse("i-1"),
    accountId,
    symbol: "EURUSD",
    action: "OPEN",
    side: "BUY",
    quantity: 1,
    provenance: { runId: "run-1", strategyId: "momentum", regimeId: "calm" },
    ...overrides,
  });
}

export function when(state: EngineState, command: Command) {
  return decide(command, state);
}

export const EURUSD = SymbolId.parse("EURUSD"); // contract 100,000

/** An execution report for the test account (EURUSD, no fee, the order's own fill by default). */
export const fill = (side: "BUY" | "SELL", quantity: number, price: number, extra: Partial<FillReport> = {}): FillReport => ({
  accountId,
  intentId: null,
  symbol: EURUSD,
  side,
  quantity,
  price,
  feeUsd: 0,
  trigger: "order",
  ...extra,
});

export const tick = (price: number, at = 5_000, symbol = EURUSD): Command => ({ type: "RecordMarket", at, updates: [{ kind: "tick", symbol, price }] });

/** Decides and folds each command in turn; returns the last command's events and the state after all. */
export function run(state: EngineState, ...commands: Command[]) {
  let events: EngineEvent[] = [];
  for (const command of commands) {
    const result = when(state, command);
    if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
    events = result.events;
    state = result.events.reduce(evolve, state);
  }
  return { events, state, account: state.accounts.get(accountId)! };
}

/** Decides one intent at t (default 3,000 ms, 500 ms after the last EURUSD price). */
export function decision(state: EngineState, overrides: Parameters<typeof intent>[0] = {}, at = 3_000): Decision {
  const result = when(state, { type: "SubmitIntent", at, intent: intent(overrides) });
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
  const decided = result.events.find((event) => event.type === "intent.decided");
  if (decided?.type !== "intent.decided") throw new Error("no decision");
  return decided.decision;
}

/** A denial's guard, reason, observed value and limit, or "allowed". */
export function denial(d: Decision) {
  return d.outcome === "denied" ? { guard: d.guard, reason: d.reason, observed: d.observed, limit: d.limit } : "allowed";
}

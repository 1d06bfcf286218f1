import type { Command } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, IntentId, SymbolId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
import type { EngineConfigInput } from "@/server/engine/config";
import { EngineConfig } from "@/server/engine/config";
import type { EngineState } from "@/server/engine/state";
import { evolve, initialState } from "@/server/engine/state";
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

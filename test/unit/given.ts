import type { Command } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, IntentId } from "@/server/engine/ids";
import { Intent } from "@/server/engine/intent";
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

export function given(...events: EngineEvent[]): EngineState {
  return events.reduce(evolve, initialState());
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

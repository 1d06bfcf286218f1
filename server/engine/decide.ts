import type { EngineEvent } from "./events";
import type { AccountId } from "./ids";
import type { Intent } from "./intent";
import { guardChain } from "./guards";
import type { AccountState, EngineState } from "./state";
import type { AccountSpec, Actor, BreakerKind, Decision } from "./types";

/** What an operator says when tripping or resetting a breaker. */
export type BreakerOrder = {
  readonly accountId: AccountId;
  readonly breaker: BreakerKind;
  readonly reason: string;
  readonly by: Actor;
};

/** Commands the engine decides on. `at` is supplied by the caller (the engine has no clock). */
export type Command =
  | { readonly type: "OpenAccount"; readonly at: number; readonly account: AccountSpec; readonly by: Actor }
  | { readonly type: "SubmitIntent"; readonly at: number; readonly intent: Intent }
  | ({ readonly type: "TripBreaker" | "ResetBreaker"; readonly at: number } & BreakerOrder);

/** Why a command was refused outright (as opposed to an intent being denied, which is an outcome). */
export type Rejection =
  | { readonly code: "unknown_account"; readonly accountId: AccountId }
  | { readonly code: "account_exists"; readonly accountId: AccountId }
  | { readonly code: "breaker_already_tripped"; readonly accountId: AccountId; readonly breaker: BreakerKind }
  | { readonly code: "breaker_not_tripped"; readonly accountId: AccountId; readonly breaker: BreakerKind };

export type Decided = { readonly ok: true; readonly events: EngineEvent[] } | { readonly ok: false; readonly rejection: Rejection };

/** Runs the guard chain over an intent: the first denial wins. */
export function evaluate(intent: Intent, account: AccountState): Decision {
  for (const guard of guardChain) {
    const verdict = guard.check({ intent, account });
    if (!verdict.pass) {
      return {
        intentId: intent.intentId,
        accountId: intent.accountId,
        outcome: "denied",
        approvedQuantity: 0,
        guard: guard.name,
        reason: verdict.reason,
        observed: verdict.observed,
        limit: verdict.limit,
        advisories: [],
      };
    }
  }
  return {
    intentId: intent.intentId,
    accountId: intent.accountId,
    outcome: "allowed",
    approvedQuantity: intent.quantity ?? null,
    guard: null,
    reason: null,
    observed: null,
    limit: null,
    advisories: [],
  };
}

/** `decide(command, state) -> events`, or a rejection. Pure. */
export function decide(command: Command, state: EngineState): Decided {
  switch (command.type) {
    case "OpenAccount": {
      const { accountId } = command.account;
      if (state.accounts.has(accountId)) return { ok: false, rejection: { code: "account_exists", accountId } };
      return { ok: true, events: [{ type: "account.opened", at: command.at, account: command.account, by: command.by }] };
    }
    case "SubmitIntent": {
      const { intent, at } = command;
      const account = state.accounts.get(intent.accountId);
      if (!account) return { ok: false, rejection: { code: "unknown_account", accountId: intent.accountId } };
      return {
        ok: true,
        events: [
          { type: "intent.received", at, intent },
          { type: "intent.decided", at, decision: evaluate(intent, account) },
        ],
      };
    }
    case "TripBreaker":
    case "ResetBreaker": {
      const { accountId, breaker, at, reason, by } = command;
      const account = state.accounts.get(accountId);
      if (!account) return { ok: false, rejection: { code: "unknown_account", accountId } };
      const tripped = account.breakers[breaker].tripped;
      if (command.type === "TripBreaker") {
        if (tripped) return { ok: false, rejection: { code: "breaker_already_tripped", accountId, breaker } };
        return { ok: true, events: [{ type: "breaker.tripped", at, accountId, breaker, reason, by }] };
      }
      if (!tripped) return { ok: false, rejection: { code: "breaker_not_tripped", accountId, breaker } };
      return { ok: true, events: [{ type: "breaker.reset", at, accountId, breaker, reason, by }] };
    }
  }
}

import type { EngineEvent } from "./events";
import type { AccountId } from "./ids";
import type { AccountSpec, Actor, BreakerKind, TradingState } from "./types";
import { BreakerKind as BreakerKinds } from "./types";

export type BreakerState =
  | { readonly tripped: false; readonly lastResetAt: number | null; readonly lastResetBy: Actor | null }
  | {
      readonly tripped: true;
      readonly reason: string;
      readonly trippedAt: number;
      readonly trippedBy: Actor;
    };

export type AccountState = {
  readonly spec: AccountSpec;
  readonly breakers: Readonly<Record<BreakerKind, BreakerState>>;
  readonly allowedCount: number;
  readonly deniedCount: number;
};

export type EngineState = {
  readonly accounts: ReadonlyMap<AccountId, AccountState>;
};

export function initialState(): EngineState {
  return { accounts: new Map() };
}

const untripped: BreakerState = { tripped: false, lastResetAt: null, lastResetBy: null };

function freshBreakers(): Record<BreakerKind, BreakerState> {
  return Object.fromEntries(BreakerKinds.options.map((kind) => [kind, untripped])) as Record<
    BreakerKind,
    BreakerState
  >;
}

/** HALTED while any breaker is tripped; otherwise ACTIVE. Derived, never stored. */
export function tradingStateOf(account: AccountState): TradingState {
  return Object.values(account.breakers).some((breaker) => breaker.tripped) ? "HALTED" : "ACTIVE";
}

function withAccount(
  state: EngineState,
  accountId: AccountId,
  update: (account: AccountState) => AccountState,
): EngineState {
  const account = state.accounts.get(accountId);
  if (!account) return state;
  const accounts = new Map(state.accounts);
  accounts.set(accountId, update(account));
  return { ...state, accounts };
}

/** The state fold: replay is `events.reduce(evolve, initialState())`. */
export function evolve(state: EngineState, event: EngineEvent): EngineState {
  switch (event.type) {
    case "account.opened": {
      if (state.accounts.has(event.account.accountId)) return state;
      const accounts = new Map(state.accounts);
      accounts.set(event.account.accountId, {
        spec: event.account,
        breakers: freshBreakers(),
        allowedCount: 0,
        deniedCount: 0,
      });
      return { ...state, accounts };
    }
    case "intent.received":
      return state;
    case "intent.decided":
      return withAccount(state, event.decision.accountId, (account) =>
        event.decision.outcome === "allowed"
          ? { ...account, allowedCount: account.allowedCount + 1 }
          : { ...account, deniedCount: account.deniedCount + 1 },
      );
    case "breaker.tripped":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: true, reason: event.reason, trippedAt: event.at, trippedBy: event.by },
        },
      }));
    case "breaker.reset":
      return withAccount(state, event.accountId, (account) => ({
        ...account,
        breakers: {
          ...account.breakers,
          [event.breaker]: { tripped: false, lastResetAt: event.at, lastResetBy: event.by },
        },
      }));
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}

import type { Intent } from "./intent";
import { reducesExposure } from "./intent";
import type { AccountState } from "./state";
import { tradingStateOf } from "./state";
import type { DenialReason, GuardName } from "./types";

/**
 * The guard chain, read top to bottom: ordered cheapest first, first denial wins
 * (SPEC section 3). Each guard only reads the state; none has side effects.
 */
export type GuardContext = { readonly intent: Intent; readonly account: AccountState };

export type GuardVerdict =
  | { readonly pass: true }
  | {
      readonly pass: false;
      readonly reason: DenialReason;
      readonly observed: number | string | null;
      readonly limit: number | string | null;
    };

export type Guard = { readonly name: GuardName; readonly check: (ctx: GuardContext) => GuardVerdict };

const pass: GuardVerdict = { pass: true };

/** 1. Trading state: a halted account takes no new exposure; exits always pass. */
const tradingState: Guard = {
  name: "trading_state",
  check: ({ intent, account }) => {
    const state = tradingStateOf(account);
    if (state === "ACTIVE" || reducesExposure(intent)) return pass;
    return { pass: false, reason: "trading_halted", observed: state, limit: "ACTIVE" };
  },
};

export const guardChain: readonly Guard[] = [tradingState];

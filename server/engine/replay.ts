import { decide } from "./decide";
import type { EngineEvent } from "./events";
import type { Intent } from "./intent";
import type { Decision, ReviewOutcome } from "./types";
import type { EngineState } from "./state";
import { evolve, initialState } from "./state";
import { isMapLike } from "./persistent-map";

export type ReplayRecord = { readonly seq: number; readonly event: EngineEvent };

export type Mismatch = {
  readonly seq: number;
  readonly intentId: string;
  /** Null: the stream has no decision for a received intent. */
  readonly recorded: Decision | null;
  /** Null: the engine could not decide the intent (an unknown account, no intent before the decision). */
  readonly recomputed: Decision | null;
};

export type ReplayResult = {
  readonly events: number;
  readonly decisions: number;
  readonly mismatches: readonly Mismatch[];
  readonly state: EngineState;
};

/**
 * Folds a recorded stream through the engine. Every `intent.decided` is decided again from the
 * state just before its `intent.received`, with the reviewer's outcome the ledger recorded
 * between them (replay never calls a reviewer); the result must equal the recorded decision.
 * A received intent with no decision after it is a mismatch too. Pure: the caller reads files
 * and hashes.
 */
export function replay(records: Iterable<ReplayRecord>): ReplayResult {
  let state = initialState();
  let events = 0;
  let decisions = 0;
  const mismatches: Mismatch[] = [];
  type Pending = { seq: number; at: number; intent: Intent; before: EngineState; review?: ReviewOutcome };
  let pending: Pending | null = null;

  const recompute = (p: Pending): Decision | null => {
    const result = decide({ type: "SubmitIntent", at: p.at, intent: p.intent, ...(p.review ? { review: p.review } : {}) }, p.before);
    const decided = result.ok ? result.events.find((e) => e.type === "intent.decided") : undefined;
    return decided?.type === "intent.decided" ? decided.decision : null;
  };
  /** A received intent whose decision is missing from the stream. */
  const settle = () => {
    if (pending) mismatches.push({ seq: pending.seq, intentId: pending.intent.intentId, recorded: null, recomputed: recompute(pending) });
    pending = null;
  };

  for (const { seq, event } of records) {
    events++;
    if (event.type === "intent.received") {
      settle();
      pending = { seq, at: event.at, intent: event.intent, before: state };
    } else if (event.type === "reviewer.verdict" && pending?.intent.intentId === event.intentId) {
      pending.review = event.outcome;
    } else if (event.type === "intent.decided") {
      decisions++;
      if (!pending || pending.intent.intentId !== event.decision.intentId) {
        // A decision with no intent before it cannot have been reproduced: fail closed.
        settle();
        mismatches.push({ seq, intentId: event.decision.intentId, recorded: event.decision, recomputed: null });
      } else {
        const recomputed = recompute(pending);
        if (!recomputed || !sameDecision(recomputed, event.decision)) {
          mismatches.push({ seq, intentId: event.decision.intentId, recorded: event.decision, recomputed });
        }
        pending = null;
      }
    }
    state = evolve(state, event);
  }
  settle();
  return { events, decisions, mismatches, state };
}

/**
 * Whether a decision taken again equals the recorded one. One allowance for ledgers recorded
 * before halts said why: a trading_state denial for a halt (`trading_halted`, `firm_halted`)
 * recorded without a `detail` matches the same denial with one (the detail only describes the
 * halt; guard, reason, observed value and limit must still be equal).
 */
export function sameDecision(recomputed: Decision, recorded: Decision): boolean {
  if (canonicalJson(recomputed) === canonicalJson(recorded)) return true;
  if (recorded.outcome !== "denied" || recomputed.outcome !== "denied" || recorded.detail !== undefined || recomputed.detail === undefined) return false;
  if (recorded.guard !== "trading_state" || (recorded.reason !== "trading_halted" && recorded.reason !== "firm_halted")) return false;
  const { detail: _detail, ...withoutDetail } = recomputed;
  return canonicalJson(withoutDetail) === canonicalJson(recorded);
}

/** JSON with sorted keys and Maps as sorted entry lists: equal states give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (isMapLike(value)) {
    return [...value.entries()].map(([k, v]) => [k, canonical(v)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
  }
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

import { decide } from "./decide";
import type { EngineEvent } from "./events";
import type { Decision } from "./types";
import type { EngineState } from "./state";
import { evolve, initialState } from "./state";

export type ReplayRecord = { readonly seq: number; readonly event: EngineEvent };

export type Mismatch = {
  readonly seq: number;
  readonly intentId: string;
  readonly recorded: Decision | null;
  readonly recomputed: Decision;
};

export type ReplayResult = {
  readonly events: number;
  readonly decisions: number;
  readonly mismatches: readonly Mismatch[];
  readonly state: EngineState;
};

/**
 * Folds a recorded stream through the engine. At every `intent.received` the engine decides
 * the intent again from the state at that point; the result must equal the `intent.decided`
 * that the ledger recorded for it. Pure: the caller reads files and hashes.
 */
export function replay(records: Iterable<ReplayRecord>): ReplayResult {
  let state = initialState();
  let events = 0;
  let decisions = 0;
  const mismatches: Mismatch[] = [];
  let expected: { seq: number; decision: Decision } | null = null;

  const settle = () => {
    if (expected) mismatches.push({ seq: expected.seq, intentId: expected.decision.intentId, recorded: null, recomputed: expected.decision });
    expected = null;
  };

  for (const { seq, event } of records) {
    events++;
    if (event.type === "intent.received") {
      settle();
      const result = decide({ type: "SubmitIntent", at: event.at, intent: event.intent }, state);
      const recomputed = result.ok ? result.events.find((e) => e.type === "intent.decided") : undefined;
      if (recomputed?.type === "intent.decided") expected = { seq, decision: recomputed.decision };
    } else if (event.type === "intent.decided") {
      decisions++;
      if (!expected || expected.decision.intentId !== event.decision.intentId) {
        settle();
      } else {
        if (!sameDecision(expected.decision, event.decision)) {
          mismatches.push({ seq, intentId: event.decision.intentId, recorded: event.decision, recomputed: expected.decision });
        }
        expected = null;
      }
    }
    state = evolve(state, event);
  }
  settle();
  return { events, decisions, mismatches, state };
}

function sameDecision(a: Decision, b: Decision): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with sorted keys and Maps as sorted entry lists: equal states give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (value instanceof Map) {
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

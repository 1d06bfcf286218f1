import type { RulesPatch } from "./config";
import { decide, needsReview, previewIntent } from "./decide";
import type { EngineEvent } from "./events";
import type { AccountId, PresetId } from "./ids";
import type { Intent } from "./intent";
import type { ReplayRecord } from "./replay";
import { sameDecision } from "./replay";
import type { EngineState } from "./state";
import { evolve } from "./state";
import type { Decision, ReviewOutcome } from "./types";

export type ChangedDecision = {
  readonly seq: number;
  readonly at: number;
  readonly intent: Intent;
  readonly recorded: Decision;
  /** The decision under the candidate rules (null: the engine refused the intent outright). */
  readonly candidate: Decision | null;
};

export type DryRunResult = {
  /** The account's decisions re-decided (those at or after `fromSeq`). */
  readonly decisions: number;
  readonly changed: readonly ChangedDecision[];
  readonly allowedToDenied: number;
  readonly deniedToAllowed: number;
  /** Allowed both ways, with another approved quantity. */
  readonly resized: number;
  /** Denied both ways, by another guard or reason. */
  readonly otherReason: number;
  /**
   * Decisions the candidate would send to the reviewer when the recording has no verdict for
   * them: decided without guard 18 (replay never calls out), and counted here.
   */
  readonly unreviewed: number;
};

/**
 * What an account's recent decisions would have been under other rules (a preset being edited).
 * `base` is the engine state just before the first of `records`; from `fromSeq` on, the account
 * decides under `rules`, and every intent it received is decided again and compared with the
 * recorded decision. Everything else is taken as recorded: the market, the fills, the breakers
 * and locks, so the answer is "which of these decisions would change", not a new history. The
 * reviewer's recorded verdicts are reused; replay never calls out. Pure.
 */
export function dryRun(
  base: EngineState,
  records: Iterable<ReplayRecord>,
  accountId: AccountId,
  candidate: { presetId: PresetId; version: number; rules: RulesPatch },
  fromSeq: number,
): DryRunResult {
  const run = dryRunOf(base, accountId, candidate, fromSeq);
  for (const record of records) run.feed(record);
  return run.result();
}

/** The same, one record at a time (the shell folds a long window in slices, yielding between). */
export function dryRunOf(
  base: EngineState,
  accountId: AccountId,
  candidate: { presetId: PresetId; version: number; rules: RulesPatch },
  fromSeq: number,
): { feed(record: ReplayRecord): void; result(): DryRunResult } {
  let state = base;
  let switched = false;
  let decisions = 0;
  const changed: ChangedDecision[] = [];
  const counts = { allowedToDenied: 0, deniedToAllowed: 0, resized: 0, otherReason: 0, unreviewed: 0 };
  type Pending = { seq: number; at: number; intent: Intent; before: EngineState; review?: ReviewOutcome };
  let pending: Pending | null = null;

  const switchTo = (at: number) => {
    const activated: EngineEvent = { type: "preset.activated", at, accountId, ...candidate, reason: "dry run", by: "dry-run" };
    state = evolve(state, activated);
    switched = true;
  };

  const feed = ({ seq, event }: ReplayRecord) => {
    if (!switched && seq >= fromSeq) switchTo(event.at);
    // The account keeps the candidate rules through the window, whatever was activated meanwhile.
    if (switched && event.type === "preset.activated" && event.accountId === accountId) return;
    if (switched && event.type === "intent.received" && event.intent.accountId === accountId) {
      pending = { seq, at: event.at, intent: event.intent, before: state };
    } else if (pending && event.type === "reviewer.verdict" && event.intentId === pending.intent.intentId) {
      pending.review = event.outcome;
    } else if (pending && event.type === "intent.decided" && event.decision.intentId === pending.intent.intentId && event.decision.accountId === accountId) {
      decisions++;
      // No verdict recorded: the reviewer is left out rather than counted as failed.
      const again = pending.review ? decidedAgain(pending.before, pending.at, pending.intent, pending.review) : previewIntent(pending.intent, pending.before, pending.at);
      if (!pending.review && again?.outcome === "allowed" && needsReview(pending.intent, pending.before)) counts.unreviewed++;
      const recorded = event.decision;
      if (!again || !sameDecision(again, recorded)) {
        changed.push({ seq: pending.seq, at: pending.at, intent: pending.intent, recorded, candidate: again });
        const now = again?.outcome ?? "denied";
        if (recorded.outcome === "allowed" && now === "denied") counts.allowedToDenied++;
        else if (recorded.outcome === "denied" && now === "allowed") counts.deniedToAllowed++;
        else if (now === "allowed" && again?.approvedQuantity !== recorded.approvedQuantity) counts.resized++;
        else if (now === "denied" && (again?.guard !== recorded.guard || again?.reason !== recorded.reason)) counts.otherReason++;
      }
      pending = null;
    }
    state = evolve(state, event);
  };
  return { feed, result: () => ({ decisions, changed, ...counts }) };
}

function decidedAgain(before: EngineState, at: number, intent: Intent, review: ReviewOutcome): Decision | null {
  const result = decide({ type: "SubmitIntent", at, intent, review }, before);
  const decided = result.ok ? result.events.find((e) => e.type === "intent.decided") : undefined;
  return decided?.type === "intent.decided" ? decided.decision : null;
}

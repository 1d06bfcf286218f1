import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@/server/engine/events";
import { replay } from "@/server/engine/replay";
import { accountId, config, configured, given, intent, opened, priced, when } from "./given";

/** The deal memo on the ledger: before the reviewer's verdict, or on its own after the decision; the engine folds nothing from it. */

const memo = { version: 1, intentId: "i-1", chaos: { status: "skipped", reason: "test" } };
const verdict = { status: "verdict" as const, reviewer: "rule", veto: false, killReason: null, riskFlags: [] };

describe("the deal memo", () => {
  it("goes on the ledger after the intent and before the reviewer's verdict", () => {
    const state = given(configured({ guards: { reviewer: { enabled: true } } }), opened, priced);
    const result = when(state, { type: "SubmitIntent", at: 3_000, intent: intent(), review: verdict, memo });
    expect(result.ok && result.events.map((event) => event.type)).toEqual(["intent.received", "advisory.memo", "reviewer.verdict", "intent.decided"]);
    const events: EngineEvent[] = [{ type: "config.applied", at: 0, config: { ...config, guards: { ...config.guards, reviewer: { ...config.guards.reviewer, enabled: true } } }, by: "system" }, opened, priced, ...(result.ok ? result.events : [])];
    expect(replay(events.map((event, index) => ({ seq: index + 1, event }))).mismatches).toEqual([]);
  });

  it("is recorded on its own after the decision, for a known account only, and changes no state", () => {
    const state = given(configured(), opened, priced);
    const recorded = when(state, { type: "RecordMemo", at: 4_000, accountId, intentId: intent().intentId, memo });
    expect(recorded).toEqual({ ok: true, events: [{ type: "advisory.memo", at: 4_000, accountId, intentId: "i-1", memo }] });
    const unknown = when(given(configured()), { type: "RecordMemo", at: 4_000, accountId, intentId: intent().intentId, memo });
    expect(unknown).toEqual({ ok: false, rejection: { code: "unknown_account", accountId } });
  });
});

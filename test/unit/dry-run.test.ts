import { describe, expect, it } from "vitest";
import { dryRun } from "@/server/engine/dry-run";
import type { EngineEvent } from "@/server/engine/events";
import { PresetId } from "@/server/engine/ids";
import { initialState } from "@/server/engine/state";
import { accountId, config, given, intent, opened, priced, when } from "./given";

/** Dry-runs: the account's recorded intents decided again under other rules, nothing else changed. */

function recorded(): EngineEvent[] {
  const events: EngineEvent[] = [{ type: "config.applied", at: 0, config, by: "system" }, opened, priced];
  for (const n of [1, 2, 3]) {
    const result = when(given(...events.slice(1)), { type: "SubmitIntent", at: 3_000 + n, intent: intent({ intentId: `i-${n}`, quantity: 0.5 }) });
    if (!result.ok) throw new Error("rejected");
    events.push(...result.events);
  }
  return events;
}

const candidate = (rules: object) => ({ presetId: PresetId.parse("draft"), version: 0, rules });

describe("a dry-run", () => {
  const events = recorded();
  const records = events.map((event, index) => ({ seq: index + 1, event }));
  const fromSeq = records.find(({ event }) => event.type === "intent.received")!.seq;

  it("lists the decisions a tighter limit would change", () => {
    const result = dryRun(initialState(), records, accountId, candidate({ guards: { throttle: { maxOrderNotionalUsd: 20_000 } } }), fromSeq);
    expect(result).toMatchObject({ decisions: 3, allowedToDenied: 3, deniedToAllowed: 0, unreviewed: 0 });
    expect(result.changed.map((change) => change.candidate?.reason)).toEqual(["order_notional_exceeded", "order_notional_exceeded", "order_notional_exceeded"]);
  });

  it("changes nothing under the same rules", () => {
    expect(dryRun(initialState(), records, accountId, candidate({}), fromSeq)).toMatchObject({ decisions: 3, changed: [] });
  });

  it("leaves the reviewer out where the recording has no verdict, and counts those decisions instead of denying them", () => {
    const result = dryRun(initialState(), records, accountId, candidate({ guards: { reviewer: { enabled: true, onFailure: "deny" } } }), fromSeq);
    expect(result).toMatchObject({ decisions: 3, changed: [], unreviewed: 3 });
  });
});

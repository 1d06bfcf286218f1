import { describe, expect, it } from "vitest";
import { explainIntent } from "@/server/engine/decide";
import { guardChain } from "@/server/engine/guards";
import { configured, decision, given, intent, long, opened, priced, tripped } from "./given";

/** A decision explained: every guard of the chain with its part, and the same decision as the decision path's. */

describe("explaining a decision", () => {
  it("lists the whole chain: the figures each guard judged, and the guards switched off", () => {
    const state = given(configured(), opened, long, priced);
    const explained = explainIntent(intent({ quantity: 0.5 }), state, 3_000, null)!;
    expect(explained.decision).toEqual(decision(state, { quantity: 0.5 }));
    expect(explained.steps.map((step) => step.guard)).toEqual(guardChain.map((guard) => guard.name));
    const step = (guard: string) => explained.steps.find((s) => s.guard === guard)!;
    expect(step("throttle")).toMatchObject({
      status: "passed",
      measures: [
        { what: "intents in the last second", observed: 1, limit: 10 },
        { what: "order notional USD", observed: 55_000, limit: 5_000_000 },
      ],
    });
    expect(step("max_daily_loss")).toMatchObject({ status: "passed", measures: [{ what: "equity USD (floor)", observed: 100_000, limit: 95_000 }] });
    expect(step("cvar").status).toBe("off");
    expect(step("kelly_sizing").status).toBe("passed");
  });

  it("marks the deciding guard with the decision's figures and the ones after it as not reached", () => {
    const state = given(configured(), opened, tripped, priced);
    const explained = explainIntent(intent(), state, 3_000, null)!;
    expect(explained.decision).toEqual(decision(state));
    expect(explained.steps[0]).toMatchObject({ guard: "trading_state", status: "denied", reason: "trading_halted", measures: [{ observed: "HALTED", limit: "ACTIVE" }] });
    expect(explained.steps.slice(1).every((step) => step.status === "not_reached" || step.status === "off")).toBe(true);
  });

  it("gives the decision the decision path gives, for entries and exits alike", () => {
    const state = given(configured(), opened, long, priced);
    for (const overrides of [{ quantity: 2 }, { quantity: 20_000 }, { action: "CLOSE", side: "SELL", quantity: 5 }, { referencePrice: 1.3 }, { symbol: "ZZZ" }]) {
      expect(explainIntent(intent(overrides), state, 3_000, null)!.decision).toEqual(decision(state, overrides));
    }
  });
});

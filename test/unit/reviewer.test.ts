import { describe, expect, it } from "vitest";
import { previewIntent } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { replay } from "@/server/engine/replay";
import type { ReviewOutcome } from "@/server/engine/types";
import type { Reviewer } from "@/server/reviewer";
import { obtainReview } from "@/server/reviewer";
import { accountId, configured, given, intent, opened, priced, when } from "./given";

const reviewerOn = (onFailure: "deny" | "allow" = "deny"): EngineEvent => configured({ guards: { reviewer: { enabled: true, onFailure } } });
const verdict = (veto: boolean, riskFlags: string[] = []): ReviewOutcome => ({
  status: "verdict",
  reviewer: "rule",
  veto,
  killReason: veto ? "ruin rate 4% above 2%" : null,
  riskFlags,
});

function submit(events: EngineEvent[], review?: ReviewOutcome, overrides: Parameters<typeof intent>[0] = {}) {
  const result = when(given(...events), { type: "SubmitIntent", at: 3_000, intent: intent(overrides), ...(review ? { review } : {}) });
  if (!result.ok) throw new Error("rejected");
  return result.events;
}
const decided = (events: EngineEvent[]) => {
  const event = events.find((e) => e.type === "intent.decided");
  return event?.type === "intent.decided" ? event.decision : null;
};

describe("reviewer (guard 18)", () => {
  const base = [reviewerOn(), opened, priced];

  it("records the verdict before the decision and passes its risk flags along", () => {
    const events = submit(base, verdict(false, ["thin book"]));
    expect(events.map((e) => e.type)).toEqual(["intent.received", "reviewer.verdict", "intent.decided"]);
    expect(events[1]).toEqual({ type: "reviewer.verdict", at: 3_000, accountId, intentId: "i-1", outcome: verdict(false, ["thin book"]) });
    expect(decided(events)).toMatchObject({ outcome: "allowed", advisories: ["reviewer rule: no veto: thin book"] });
  });

  it("denies on a veto, naming the kill reason", () => {
    expect(decided(submit(base, verdict(true, ["flash crash survival 0/4"])))).toMatchObject({
      outcome: "denied",
      guard: "reviewer",
      reason: "reviewer_veto",
      observed: "ruin rate 4% above 2%",
      limit: "no veto",
      detail: "rule: flash crash survival 0/4",
    });
  });

  it("denies when the reviewer failed or gave nothing, under the deny policy", () => {
    const failed: ReviewOutcome = { status: "failed", reviewer: "llm", detail: "no verdict within 2000 ms" };
    expect(decided(submit(base, failed))).toMatchObject({ outcome: "denied", reason: "review_unavailable", observed: "no verdict within 2000 ms" });
    const none = submit(base);
    expect(none[1]).toMatchObject({ type: "reviewer.verdict", outcome: { status: "failed", reviewer: "none" } });
    expect(decided(none)).toMatchObject({ outcome: "denied", reason: "review_unavailable" });
  });

  it("allows with a flag when the reviewer failed, under the allow policy", () => {
    const failed: ReviewOutcome = { status: "failed", reviewer: "llm", detail: "malformed JSON" };
    expect(decided(submit([reviewerOn("allow"), opened, priced], failed))).toMatchObject({
      outcome: "allowed",
      advisories: ["reviewer llm failed (malformed JSON): allowed by policy"],
    });
  });

  it("is not consulted when an earlier guard denies, for exits, or when it is off", () => {
    expect(submit([reviewerOn(), opened]).map((e) => e.type)).toEqual(["intent.received", "intent.decided"]); // no price
    expect(submit(base, undefined, { action: "CLOSE", side: "SELL" }).map((e) => e.type)).toEqual(["intent.received", "intent.decided"]);
    expect(submit([opened, priced], verdict(true)).map((e) => e.type)).toEqual(["intent.received", "intent.decided"]);
  });

  it("is left out of the preview the shell takes to decide whether to ask", () => {
    expect(previewIntent(intent(), given(...base), 3_000)).toMatchObject({ outcome: "allowed" });
  });

  it("replay reuses the recorded verdict and reports a decision that does not follow from it", () => {
    const stream = [...base, ...submit(base, verdict(true))];
    const records = stream.map((event, i) => ({ seq: i + 1, event }));
    expect(replay(records).mismatches).toEqual([]);
    const edited = records.map((record) =>
      record.event.type === "reviewer.verdict" ? { ...record, event: { ...record.event, outcome: verdict(false) } } : record,
    );
    expect(replay(edited).mismatches).toMatchObject([{ intentId: "i-1", recorded: { outcome: "denied" }, recomputed: { outcome: "allowed" } }]);
  });
});

describe("asking a reviewer (the shell)", () => {
  const request = { intent: intent(), decision: previewIntent(intent(), given(reviewerOn(), opened, priced), 3_000)!, account: {} as never };

  it("returns the reviewer's verdict", async () => {
    const reviewer: Reviewer = { name: "rule", review: async () => ({ veto: true, killReason: "too risky", riskFlags: ["a"] }) };
    expect(await obtainReview(reviewer, request, 1_000)).toEqual({ status: "verdict", reviewer: "rule", veto: true, killReason: "too risky", riskFlags: ["a"] });
  });

  it("turns a timeout, an error, or no reviewer into a failure, and aborts the late call", async () => {
    let aborted = false;
    const slow: Reviewer = {
      name: "llm",
      review: (_, signal) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => (aborted = true));
          setTimeout(() => resolve({ veto: false, killReason: null, riskFlags: [] }), 500);
        }),
    };
    expect(await obtainReview(slow, request, 20)).toEqual({ status: "failed", reviewer: "llm", detail: "no verdict within 20 ms" });
    expect(aborted).toBe(true);
    const broken: Reviewer = { name: "llm", review: async () => Promise.reject(new Error("HTTP 502")) };
    expect(await obtainReview(broken, request, 1_000)).toEqual({ status: "failed", reviewer: "llm", detail: "HTTP 502" });
    expect(await obtainReview(null, request, 1_000)).toMatchObject({ status: "failed", reviewer: "none" });
  });
});
